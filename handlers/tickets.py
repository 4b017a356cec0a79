"""Tickets in chat: residents' reports, photos, questions and confirmations; leaders' commands."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.feature import Feature, Job, Stage, in_work
from bot.domain.tickets import Action, is_acceptance, quoted_ticket, split_quote
from bot.domain.parsing import ParseResult
from bot.domain.people import household_of
from bot.messages import IncomingMessage, MessageType, Reply
from bot.tickets import Reporter, TicketDesk
from bot.work import Work
from handlers.ack import record_reply_in_report
from handlers.base import Context
from handlers.commands import parse_command, reply_to
from storage.models import MessageRow

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
_NUMBER = re.compile(r"(?<!\d)(\d{3,9})(?!\d)")

CONFIRM = re.compile(r"^\s*(好了|好啦|解决了|已解决|修好了|搞定了?|可以了|没问题了?|谢谢|感谢|确认|ok|OK|👍)")
DENY = re.compile(r"(还没|没有?修好|没解决|还是(坏|不|没|一样)|又坏|不行|没好|还在|依旧|仍然)")
# from anyone in the group (not only the reporter) the wording must leave no doubt
STILL_BROKEN = re.compile(r"(还是(不|没|坏|一样|老样子)|又(坏|不亮|不动|停|漏|没|堵|黑|臭)|没有?修好|没解决|"
                          r"还在(漏|滴|渗|堵|臭|响|冒)|还没(好|修|来水|来电|通)|依然|依旧|仍然)")
# the reporter takes their report back: a false alarm, or it sorted itself out
WITHDRAW = re.compile(r"(看错|搞错|弄错|误会了|误报|没事了|没事啦|没事儿了|已经好了|自己好了|恢复了|找到了|不用了|"
                      r"不需要了|虚惊一场|已经被.{0,8}(扶|送|接|领|抬)(走|回|起)|已经(扶|送|接)(走|回|起))")


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


async def _reporter(msg: IncomingMessage, ctx: Context) -> Reporter:
    assert ctx.node is not None
    return Reporter(id=msg.sender_id, name=msg.sender_name, room_id=msg.room_id,
                    room_key=ctx.room.key if ctx.room else None, node=ctx.node, message_row_id=await ctx.message_id())


def _desk(ctx: Context) -> TicketDesk:
    return ctx.work.tickets


class TicketCommandHandler:
    """Leaders' `#受理 / #办结 / #转派 / #上报 / #关闭 / #撤销 / #重开 / #合并 / #拆分 / #工单 / #查询`."""

    name = "ticket_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> TicketCommand | None:
        return parse_ticket_command(msg.text)

    async def handle(self, msg: IncomingMessage, args: TicketCommand, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
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
            other = _NUMBER.search(args.rest) or re.search(r"(\d{1,9})", args.rest)
            return await desk.merge(args.number, int(other.group(1)) if other else None, ctx.sender,
                                    reply_to=msg.conversation)
        if action == Action.SPLIT:
            return await desk.split(args.number, ctx.sender, reply_to=msg.conversation)
        return await desk.act(args.number, action, ctx.sender, note=args.rest[:500],
                              target=args.rest if action == Action.REASSIGN else None, reply_to=msg.conversation)


async def view_ticket(msg: IncomingMessage, ctx: Context, number: int) -> list[Reply]:
    """Show a ticket to someone entitled to see it: its reporters, its group, or those responsible."""
    desk = _desk(ctx)
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


class AnswerAcceptHandler:
    """A handler answers the bot's ticket message in words ('收到 马上去', '好的我去看看', a quote-reply): 受理.

    Only the ticket's own handler (its assignee) counts, so a resident's "收到" stays a notice acknowledgement;
    the ticket is the one the quoted message names, else the handler's most recent unaccepted one in this
    conversation (the reporter's group, the group where the bot @-ed them, or the private chat).
    """

    name = "ticket_answer"

    async def match(self, msg: IncomingMessage, ctx: Context) -> int | None:
        if ctx.sender is None or msg.type != MessageType.TEXT or not msg.text:
            return None
        quoted, answer = split_quote(msg.text)
        if not is_acceptance(answer):
            return None
        desk = _desk(ctx)
        waiting = await desk.awaiting_acceptance(ctx.sender.key)
        number = quoted_ticket(quoted)
        if number is not None:
            return number if any(t.number == number for t in waiting) else None
        here = ctx.room.key if ctx.room is not None else None
        for ticket in waiting:
            if here is None or ticket.room_key == here or desk.notified_in(ticket) == here:
                return ticket.number
        return None

    async def handle(self, msg: IncomingMessage, args: int, ctx: Context) -> list[Reply]:
        assert ctx.sender is not None
        if ctx.room is not None and getattr(ctx.parse, "kind", None) == "ack":
            # the same "收到" may also answer a notice in this group: count it there too
            desk = ctx.work.notices
            await desk.record_ack(ctx.room.key, msg.sender_id, msg.sender_name, household_of(msg.sender_name))
        _, answer = split_quote(msg.text)
        return await _desk(ctx).act(args, Action.ACCEPT, ctx.sender, note=answer.strip()[:100],
                                    reply_to=msg.conversation)


class ConfirmationHandler:
    """After #办结: the reporter's '好了 / 谢谢' closes the ticket; '还没修好' reopens it — and within
    `tickets.reopen_window` anyone in the group saying '还是不亮 / 又坏了' reopens it (closed or not)."""

    name = "ticket_confirm"

    async def match(self, msg: IncomingMessage, ctx: Context) -> tuple[int, Action] | None:
        text = unicodedata.normalize("NFKC", msg.text or "")[:200]
        if not text.strip() or msg.type != MessageType.TEXT:
            return None
        deny = DENY.search(text) is not None
        confirm = CONFIRM.search(text) is not None
        if not (deny or confirm):
            return None
        room_key = ctx.room.key if ctx.room else None
        if deny:
            ticket = await _desk(ctx).reopen_target(msg.sender_id, room_key, text,
                                                    strong=STILL_BROKEN.search(text) is not None)
            return (ticket.number, Action.REOPEN) if ticket is not None else None
        ticket = await _desk(ctx).awaiting_confirmation(msg.sender_id, room_key)
        if ticket is None:
            return None
        return ticket.number, Action.CONFIRM

    async def handle(self, msg: IncomingMessage, args: tuple[int, Action], ctx: Context) -> list[Reply]:
        number, action = args
        note = "居民确认已解决" if action == Action.CONFIRM else f"{msg.sender_name}反馈：{msg.text[:100]}"
        return await _desk(ctx).act(number, action, None, note=note, reply_to=msg.conversation,
                                    resident=msg.sender_name)


class WithdrawHandler:
    """The reporter's own '看错了 / 没事了 / 已经好了 / 找到了 / 不用了' soon after their report withdraws it
    (cancelled if not yet accepted, else closed) instead of becoming a report of its own."""

    name = "ticket_withdraw"

    async def match(self, msg: IncomingMessage, ctx: Context) -> int | None:
        text = unicodedata.normalize("NFKC", msg.text or "")[:200]
        if msg.type != MessageType.TEXT or WITHDRAW.search(text) is None or STILL_BROKEN.search(text):
            return None
        room_key = ctx.room.key if ctx.room else None
        ticket = await _desk(ctx).withdrawable(msg.sender_id, room_key)
        return ticket.id if ticket is not None else None

    async def handle(self, msg: IncomingMessage, args: int, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
        ticket = await desk.get(args)
        if ctx.message_row is not None:
            ctx.message_row.ticket_id = ticket.id
        return await desk.withdraw(ticket, msg.sender_name, msg.text, msg.conversation)


class ImageHandler:
    """A photo: stored, and attached to the sender's report from the last few minutes (or the next one)."""

    name = "image"

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        return True if msg.type == MessageType.IMAGE else None

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        row = ctx.message_row
        if row is None or await ctx.message_id() is None:
            return []
        ticket = await _desk(ctx).attach_image(row, msg.payload)
        if ticket is None:
            return []
        return [reply_to(msg, f"照片已附到工单 #{ticket.number}。", priority=6, kind="ticket_photo")]


class TicketQueryHandler:
    """A resident asks about their report: '我昨天报的路灯修了没' or '查询 1024'."""

    name = "ticket_query"

    def match(self, msg: IncomingMessage, ctx: Context) -> int | bool | None:
        result = ctx.parse
        if result is None or result.kind != "query":
            return None
        ref = getattr(result, "ticket_ref", None)
        if ref:
            try:
                return int(ref)
            except ValueError:
                pass
        number = _NUMBER.search(msg.text or "")
        return int(number.group(1)) if number and re.search(r"查询|工单|进度|编号|#", msg.text) else True

    async def handle(self, msg: IncomingMessage, args: int | bool, ctx: Context) -> list[Reply]:
        if args is not True and isinstance(args, int):
            return await view_ticket(msg, ctx, args)
        desk = _desk(ctx)
        tickets = await desk.latest_for_reporter(msg.sender_id, limit=3)
        if not tickets:
            return [reply_to(msg, "没有查到您反映过的问题。如有新情况，直接在群里说明即可。")]
        return [reply_to(msg, "\n".join(f"{desk.plain_status(t)}\n{desk.describe(t, with_text=True)}"
                                        for t in tickets))]


class ReportHandler:
    """A resident's report in a configured group becomes a ticket (or joins a matching one)."""

    name = "report"

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        result = ctx.parse
        if result is None or result.kind != "report" or ctx.node is None:
            return None
        return True

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        await record_reply_in_report(msg, ctx)
        reporter = await _reporter(msg, ctx)
        desk = _desk(ctx)
        parts = ctx.extras.get("report_parts") or ((msg.text, ctx.parse),)
        tickets, answers, others = [], [], []
        for text, parse in parts:
            ticket, _merged, replies = await desk.report(reporter, parse, text, mentions=msg.mentions)
            tickets.append(ticket)
            for reply in replies:
                (answers if reply.kind in ("ticket_open", "ticket_merge") else others).append(reply)
        if ctx.message_row is not None:
            ctx.message_row.ticket_id = tickets[0].id
        ctx.extras["ticket_id"] = tickets[0].id
        if len(answers) > 1:  # several problems: one ticket each, all listed in one reply
            answers = [_one_reply(answers, msg)]
        return answers + others


ASK_PLACE = "请问您住哪栋楼/哪个群？"
_ASKED = "private_ask_place"
_PLACED = "private_place"


def _private_report(msg: IncomingMessage, ctx: Context) -> bool:
    return (msg.conversation.kind == "contact" and msg.type == MessageType.TEXT
            and getattr(ctx.parse, "kind", None) == "report")


async def _home_node(msg: IncomingMessage, ctx: Context):  # type: ignore[no-untyped-def]
    """The sender's node from the groups they are in: the deepest, then the most recently joined."""
    tree = ctx.tree
    found = []
    for order, member in enumerate(await _desk(ctx).memberships_of(msg.sender_id)):
        room = tree.room(room_id=member.room_key, topic=member.room_key)
        if room is not None:
            found.append((-len(tree.lineage(room.node_code)), order, tree.node(room.node_code)))
    return min(found, key=lambda f: f[:2])[2] if found else None


def _place_from_answer(text: str, ctx: Context):  # type: ignore[no-untyped-def]
    """'3号楼' / '江桥花苑3号楼微网格' → the node: a group's topic first, else a node name, the widest match."""
    answer = unicodedata.normalize("NFKC", text or "").strip(" 。.，,！!")
    if not answer:
        return None
    tree = ctx.tree
    for node in tree:
        for room in node.rooms:
            if room.topic and unicodedata.normalize("NFKC", room.topic) == answer:
                return node
    matches = [node for node in tree if answer in unicodedata.normalize("NFKC", node.name)
               or unicodedata.normalize("NFKC", node.name) in answer]
    if not matches:
        return None
    return min(matches, key=lambda n: (len(tree.lineage(n.code)), len(n.name)))


async def _open_private(msg: IncomingMessage, ctx: Context, node: Any, parse: Any, text: str) -> list[Reply]:
    """A private report at the sender's node: the reporter has no group, so everything goes to them privately."""
    reporter = Reporter(id=msg.sender_id, name=msg.sender_name, room_id=None, room_key=None, node=node,
                        message_row_id=await ctx.message_id())
    ticket, _merged, replies = await _desk(ctx).report(reporter, parse, text)
    if ctx.message_row is not None:
        ctx.message_row.ticket_id = ticket.id
    ctx.extras["ticket_id"] = ticket.id
    return replies


class PrivateReportHandler:
    """A resident's report sent to the bot privately: a ticket at their node, known from their groups."""

    name = "private_report"

    async def match(self, msg: IncomingMessage, ctx: Context):  # type: ignore[no-untyped-def]
        if not _private_report(msg, ctx):
            return None
        return await _home_node(msg, ctx)

    async def handle(self, msg: IncomingMessage, args, ctx: Context) -> list[Reply]:  # type: ignore[no-untyped-def]
        return await _open_private(msg, ctx, args, ctx.parse, msg.text)


class PrivateAskPlaceHandler:
    """A private report from someone in none of our groups: one short question, the answer places it."""

    name = _ASKED

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        return True if _private_report(msg, ctx) else None

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        return [reply_to(msg, ASK_PLACE)]


class PrivatePlaceHandler:
    """The answer to "请问您住哪栋楼/哪个群？": a building or group name opens the held report there."""

    name = _PLACED

    async def match(self, msg: IncomingMessage, ctx: Context) -> tuple[MessageRow, Any] | None:
        if msg.conversation.kind != "contact" or msg.type != MessageType.TEXT or not msg.text:
            return None
        if len(msg.text) > 40:
            return None  # a new report, not an answer
        node = _place_from_answer(msg.text, ctx)
        if node is None and getattr(ctx.parse, "kind", None) == "report":
            return None
        recent = await _desk(ctx).recent_private_from(msg.sender_id, ctx.now - timedelta(days=1))
        if not recent or recent[0].handler not in (_ASKED, _PLACED):
            return None
        asked = next((row for row in recent if row.handler == _ASKED and row.ticket_id is None), None)
        return None if asked is None else (asked, node)

    async def handle(self, msg: IncomingMessage, args: tuple[MessageRow, Any], ctx: Context) -> list[Reply]:
        asked, node = args
        if node is None:
            return [reply_to(msg, f"没找到“{msg.text.strip()[:20]}”。请写楼号或群名，例如“江桥花苑3号楼”。")]
        replies = await _open_private(msg, ctx, node, ParseResult.from_dict(asked.parse or {}), asked.text)
        asked.ticket_id = ctx.extras["ticket_id"]
        return replies


def _one_reply(answers: list[Reply], msg: IncomingMessage) -> Reply:
    prefix = f"@{msg.sender_name} " if msg.conversation.is_room else ""
    lines = [f"{n}. {r.text.removeprefix(prefix)}" for n, r in enumerate(answers, 1)]
    first = answers[0]
    mentions = tuple(dict.fromkeys(m for r in answers for m in r.mentions))
    return Reply(first.to, f"{prefix}您反映了 {len(answers)} 件事，已分别登记：\n" + "\n".join(lines), mentions,
                 priority=min(r.priority for r in answers), kind=first.kind, ref=first.ref)


def _example(action: Action | str) -> str:
    return {Action.ACCEPT: "受理 1024", Action.RESOLVE: "办结 1024 已更换灯泡", Action.REASSIGN: "转派 1024 何警官",
            Action.ESCALATE: "上报 1024 需要城管", Action.CLOSE: "关闭 1024", Action.CANCEL: "撤销 1024",
            Action.REOPEN: "重开 1024", Action.MERGE_INTO: "合并 1024 1025", Action.SPLIT: "拆分 1024",
            "view": "查询 1024"}.get(action, "查询 1024")


async def _check_deadlines(work: Work) -> int:
    """Escalate tickets whose deadline passed (from stored state: a restart misses none, repeats none)."""
    return work.say(await work.tickets.check_deadlines())


async def _auto_close(work: Work) -> int:
    return work.say(await work.tickets.auto_close())


async def _next_deadline(work: Work) -> datetime | None:
    return await work.tickets.next_deadline_check()


async def _next_auto_close(work: Work) -> datetime | None:
    return await work.tickets.next_auto_close()


FEATURE = Feature(
    "tickets",
    handlers={
        Stage.COMMAND: [TicketCommandHandler()],
        Stage.FOLLOW_UP: [ImageHandler(), ConfirmationHandler(), WithdrawHandler(), AnswerAcceptHandler()],
        Stage.QUERY: [TicketQueryHandler()],
        Stage.PRIVATE: [PrivatePlaceHandler(), PrivateReportHandler(), PrivateAskPlaceHandler()],
        Stage.REPORT: [ReportHandler()],
    },
    jobs=[Job("ticket_deadlines", in_work(_check_deadlines, "deadline check"),
              hint=in_work(_next_deadline, "next deadline")),
          Job("ticket_auto_close", in_work(_auto_close, "auto close"), every=600,
              hint=in_work(_next_auto_close, "next auto close"))],
)
