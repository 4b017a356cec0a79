"""Leaders' ticket commands in chat: `#受理 1024`, `#办结 1024 已更换灯泡`, `#转派`, `#上报`, `#合并`, `#工单` …"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.tickets import Action
from bot.messages import IncomingMessage, Reply
from handlers.base import Context
from handlers.commands import parse_command, reply_to
from handlers.tickets.common import desk_of


COMMANDS: dict[str, Action | str] = {
    "受理": Action.ACCEPT, "接单": Action.ACCEPT,
    "办结": Action.RESOLVE, "完成": Action.RESOLVE, "已办": Action.RESOLVE, "办好": Action.RESOLVE,
    "转派": Action.REASSIGN, "转交": Action.REASSIGN, "派给": Action.REASSIGN,
    "上报": Action.ESCALATE, "升级": Action.ESCALATE,
    "关闭": Action.CLOSE, "结案": Action.CLOSE,
    "撤销": Action.CANCEL, "取消": Action.CANCEL,
    "重开": Action.REOPEN,
    "合并": Action.MERGE_INTO, "并入": Action.MERGE_INTO,
    "拆分": Action.SPLIT, "拆开": Action.SPLIT,
    "工单": "list", "待办": "list", "我的工单": "list",
    "查询": "view", "进度": "view", "查": "view",
}
_WORDS = "|".join(sorted(COMMANDS, key=len, reverse=True))
_SPLIT = re.compile(rf"^({_WORDS})\s*[#＃]?\s*(\d{{1,9}})?\s*(.*)$", re.S)
NUMBER = re.compile(r"(?<!\d)(\d{3,9})(?!\d)")


@dataclass(frozen=True, slots=True)
class TicketCommand:
    action: Action | str
    number: int | None
    rest: str


def parse_ticket_command(text: str) -> TicketCommand | None:
    """'#办结 1024 已更换灯泡' → (resolve, 1024, '已更换灯泡'); also '＃受理1024', '#查询 #1024'."""
    command = parse_command(text)
    if command is None:
        return None
    joined = f"{command.name} {command.rest}".strip()
    match = _SPLIT.match(joined)
    if match is None:
        return None
    word, number, rest = match.groups()
    return TicketCommand(COMMANDS[word], int(number) if number else None, rest.strip())


class TicketCommandHandler:
    """Leaders' `#受理 / #办结 / #转派 / #上报 / #关闭 / #撤销 / #重开 / #合并 / #拆分 / #工单 / #查询`."""

    name = "ticket_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> TicketCommand | None:
        return parse_ticket_command(msg.text)

    async def handle(self, msg: IncomingMessage, args: TicketCommand, ctx: Context) -> list[Reply]:
        desk = desk_of(ctx)
        if args.action == "list":
            if ctx.sender is None:
                return [reply_to(msg, "#工单 是网格负责人用的命令。想查自己反映的问题，请发“查询”加工单号。")]
            return [reply_to(msg, await desk.overview(ctx.sender), mention_sender=False)]
        if args.number is None:
            return [reply_to(msg, f"请在命令后写工单号，例如：#{_example(args.action)}")]
        if args.action == "view":
            return await view_ticket(msg, ctx, args.number)
        if ctx.sender is None:
            return [reply_to(msg, "抱歉，只有网格负责人可以操作工单。居民可以发“查询 工单号”看进度。")]
        action = args.action
        assert isinstance(action, Action)
        if action == Action.MERGE_INTO:
            other = NUMBER.search(args.rest) or re.search(r"(\d{1,9})", args.rest)
            return await desk.merge(args.number, int(other.group(1)) if other else None, ctx.sender,
                                    reply_to=msg.conversation)
        if action == Action.SPLIT:
            return await desk.split(args.number, ctx.sender, reply_to=msg.conversation)
        return await desk.act(args.number, action, ctx.sender, note=args.rest[:500],
                              target=args.rest if action == Action.REASSIGN else None, reply_to=msg.conversation)


async def view_ticket(msg: IncomingMessage, ctx: Context, number: int) -> list[Reply]:
    """Show a ticket to someone entitled to see it: its reporters, its group, or those responsible."""
    desk = desk_of(ctx)
    ticket = await desk.by_number(number)
    if ticket is None:
        return [reply_to(msg, f"没有找到工单 #{number}，请核对编号。")]
    reporters = await desk.reporter_ids(ticket.id)
    same_room = ctx.room is not None and ctx.room.key == ticket.room_key
    if not (msg.sender_id in reporters or same_room or desk.may_act(ctx.sender, ticket)):
        return [reply_to(msg, f"工单 #{number} 不是您反映的，也不在本群，暂不能查看。")]
    if desk.may_act(ctx.sender, ticket):
        return [reply_to(msg, desk.describe(ticket))]
    return [reply_to(msg, f"{desk.plain_status(ticket)}\n{desk.describe(ticket)}")]


def _example(action: Action | str) -> str:
    return {Action.ACCEPT: "受理 1024", Action.RESOLVE: "办结 1024 已更换灯泡", Action.REASSIGN: "转派 1024 何警官",
            Action.ESCALATE: "上报 1024 需要城管", Action.CLOSE: "关闭 1024", Action.CANCEL: "撤销 1024",
            Action.REOPEN: "重开 1024", Action.MERGE_INTO: "合并 1024 1025", Action.SPLIT: "拆分 1024",
            "view": "查询 1024"}.get(action, "查询 1024")
