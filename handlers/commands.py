"""Leader commands typed in chat: `#帮助`, and the command-line parsing every command shares."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.feature import Feature, Stage
from bot.messages import Address, IncomingMessage, Reply
from handlers.base import Context

# '#', full-width '＃', and the '♯' some keyboards produce; an optional space after it.
_COMMAND = re.compile(r"^\s*(?:@\S+\s+)*[#＃♯]\s*(\S+?)(?:[\s:：,，]+(.*))?\s*$", re.S)


@dataclass(frozen=True, slots=True)
class CommandArgs:
    """A command word and the rest of the line, e.g. ('办结', '1024 已更换灯泡')."""

    name: str
    rest: str


@lru_cache(maxsize=4096)  # every handler's match() asks about the same message: normalise it once
def parse_command(text: str) -> CommandArgs | None:
    """Split '#办结 1024 已更换灯泡' (or '＃办结：1024 …') into its command word and the rest."""
    if not text:
        return None
    original = text[:2000]
    normalized, starts = _normalize_with_positions(original)
    match = _COMMAND.match(normalized)
    if match is None:
        return None
    rest = ""
    if match.group(2) is not None:  # the writer's own characters and punctuation: "各位房东：请把…，" stays so
        begin, end = match.span(2)
        rest = original[starts[begin]:starts[end]] if begin < end else ""
    return CommandArgs(match.group(1), rest.strip())


def _normalize_with_positions(text: str) -> tuple[str, list[int]]:
    """NFKC character by character (for understanding), and where each normalised character came from."""
    out: list[str] = []
    starts: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded)
        starts.extend([index] * len(folded))
    starts.append(len(text))
    return "".join(out), starts


def reply_to(msg: IncomingMessage, text: str, *, mention_sender: bool = True, **kwargs: object) -> Reply:
    """A reply in the conversation the message came from, @-ing its sender in groups."""
    mentions: tuple[str, ...] = ()
    if mention_sender and msg.conversation.is_room:
        mentions = (msg.sender_id,)
        text = f"@{msg.sender_name} {text}"
    return Reply(to=msg.conversation, text=text, mentions=mentions, **kwargs)  # type: ignore[arg-type]


HELP_TEXT = (
    "微格助手使用说明：\n"
    "· 居民：直接在群里说问题（如“3号楼楼道灯不亮”），我会登记工单并转给负责人；可以配一张照片；\n"
    "· 查进度：发“查询 1024”，或问“我昨天报的路灯修了没”；办结后回复“好了”确认，“还没修好”重新处理；\n"
    "  报错了、问题自己好了，本人说“看错了/没事了”即可撤销；办结后几天内谁说“还是不亮/又坏了”都会重开；\n"
    "· 看到通知请回复“收到”；发“#值班”查今晚谁值班。\n"
    "发通知（负责人）：#通知 [只发房东群｜只发 JQS-02,JQS-03（或网格名）｜只发 JQS-02-0*] [截止 明天18点] [紧急] 正文\n"
    "  截止可写：12月20日、明天18点、今晚8点半、下午三点、周五、11-30 18:00，也可放在正文末尾\n"
    "#回执 [通知编号] 查看各群、各层级回复情况和谁还没回复（一户一人回复即算）\n"
    "负责人命令（在所负责的群或私聊我）：\n"
    "#工单 查看未办结（超时在前）\n"
    "#受理 1024（或直接回复工单消息“收到 马上去”）｜ #办结 1024 已更换灯泡\n"
    "#转派 1024 何警官（或网格编码）｜ #上报 1024 需要城管\n"
    "#关闭 1024 ｜ #撤销 1024 ｜ #重开 1024 ｜ #查询 1024\n"
    "#合并 1024 1025 把 1025 并入 1024（同一问题）｜ #拆分 1024 把最后并入的那位居民的反映另立工单\n"
    "#日报 ｜ #周报 [节点编码] 查看今天、本周的工单、时效和通知回执汇总\n"
    "#议事 楼道旧家具周六清走吗？ 1.同意 2.不同意 截止 周五20点 在群里发起微议事，住户回复数字或“同意”即投票（一户一票）；"
    "#议事结果 查看 ｜ #结束议事\n"
    "#走访 5-601 已上门，身体好 记一次走访（有关爱职责的人）｜ #无人在群 查看没有人在群里的住户"
)


class HelpHandler:
    """`#帮助` / `#help`: what the bot does and which commands exist."""

    name = "help"
    words = ("帮助", "help", "菜单", "说明")

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        command = parse_command(msg.text)
        if command is not None and command.name.lower() in self.words:
            return command
        return None

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        return [reply_to(msg, HELP_TEXT, mention_sender=False)]


class UnknownCommandHandler:
    """A '#…' line that no command took: say so, instead of silence."""

    name = "unknown_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        return parse_command(msg.text)

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        return [reply_to(msg, f"没有“#{args.name[:20]}”这个命令。发送 #帮助 查看可用命令。")]


class DirectChatHandler:
    """A private message or an @ of the bot that nothing else took: point to #帮助."""

    name = "direct"

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        if msg.conversation.kind == "contact" or msg.mentions_self:
            return True
        return None

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        return [reply_to(msg, "您好，我是微格助手。有问题直接说，我来登记转办；发送 #帮助 查看用法。")]


__all__ = ["Address", "CommandArgs", "HelpHandler", "UnknownCommandHandler", "DirectChatHandler",
           "parse_command", "reply_to"]


FEATURE = Feature("help", handlers={Stage.COMMAND: [HelpHandler()], Stage.UNKNOWN_COMMAND: [UnknownCommandHandler()],
                                    Stage.FALLBACK: [DirectChatHandler()]})
