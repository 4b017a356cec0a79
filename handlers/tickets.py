"""Tickets in chat: residents' reports, photos, questions and confirmations; leaders' commands."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain.tickets import Action
from bot.messages import IncomingMessage, MessageType, Reply
from bot.tickets import Reporter, TicketDesk
from handlers.ack import record_reply_in_report
from handlers.base import Context
from handlers.commands import parse_command, reply_to
from storage.ticket_repository import TicketRepository

COMMANDS: dict[str, Action | str] = {
    "受理": Action.ACCEPT, "接单": Action.ACCEPT,
    "办结": Action.RESOLVE, "完成": Action.RESOLVE, "已办": Action.RESOLVE, "办好": Action.RESOLVE,
    "转派": Action.REASSIGN, "转交": Action.REASSIGN, "派给": Action.REASSIGN,
    "上报": Action.ESCALATE, "升级": Action.ESCALATE,
    "关闭": Action.CLOSE, "结案": Action.CLOSE,
    "撤销": Action.CANCEL, "取消": Action.CANCEL,
    "重开": Action.REOPEN,
    "工单": "list", "待办": "list", "我的工单": "list",
    "查询": "view", "进度": "view", "查": "view",
}
_WORDS = "|".join(sorted(COMMANDS, key=len, reverse=True))
_SPLIT = re.compile(rf"^({_WORDS})\s*[#＃]?\s*(\d{{1,9}})?\s*(.*)$", re.S)
_NUMBER = re.compile(r"(?<!\d)(\d{3,9})(?!\d)")

CONFIRM = re.compile(r"^\s*(好了|好啦|解决了|已解决|修好了|搞定了?|可以了|没问题了?|谢谢|感谢|确认|ok|OK|👍)")
DENY = re.compile(r"(还没|没有?修好|没解决|还是(坏|不行|没|一样)|又坏|不行|没好|还在|依旧|仍然)")


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
    return TicketDesk(ctx.session, ctx.config, ctx.directory, ctx.now, ctx.recent_image)


class TicketCommandHandler:
    """Leaders' `#受理 / #办结 / #转派 / #上报 / #关闭 / #撤销 / #重开 / #工单 / #查询`."""

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
        return await desk.act(args.number, action, ctx.sender, note=args.rest[:500],
                              target=args.rest if action == Action.REASSIGN else None, reply_to=msg.conversation)


async def view_ticket(msg: IncomingMessage, ctx: Context, number: int) -> list[Reply]:
    """Show a ticket to someone entitled to see it: its reporters, its group, or those responsible."""
    desk = _desk(ctx)
    ticket = await desk.repo.find_by_number(number)
    if ticket is None:
        return [reply_to(msg, f"没有找到工单 #{number}，请核对编号。")]
    reporters = {r.reporter_id for r in await desk.repo.reporters(ticket.id)}
    same_room = ctx.room is not None and ctx.room.key == ticket.room_key
    if not (msg.sender_id in reporters or same_room or desk.may_act(ctx.sender, ticket)):
        return [reply_to(msg, f"工单 #{number} 不是您反映的，也不在本群，暂不能查看。")]
    return [reply_to(msg, desk.describe(ticket))]


class ConfirmationHandler:
    """After #办结 the reporter answers: '好了 / 谢谢' closes the ticket, '还没修好' reopens it."""

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
        ticket = await TicketRepository(ctx.session).awaiting_confirmation(msg.sender_id, room_key)
        if ticket is None:
            return None
        return ticket.number, Action.REOPEN if deny else Action.CONFIRM

    async def handle(self, msg: IncomingMessage, args: tuple[int, Action], ctx: Context) -> list[Reply]:
        number, action = args
        note = "居民确认已解决" if action == Action.CONFIRM else f"居民反馈：{msg.text[:100]}"
        return await _desk(ctx).act(number, action, None, note=note, reply_to=msg.conversation)


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
        tickets = await desk.repo.latest_for_reporter(msg.sender_id, limit=3)
        if not tickets:
            return [reply_to(msg, "没有查到您反映过的问题。如有新情况，直接在群里说明即可。")]
        return [reply_to(msg, "\n".join(desk.describe(t, with_text=True) for t in tickets))]


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
        ticket, _merged, replies = await _desk(ctx).report(reporter, ctx.parse, msg.text)
        if ctx.message_row is not None:
            ctx.message_row.ticket_id = ticket.id
        ctx.extras["ticket_id"] = ticket.id
        return replies


def _example(action: Action | str) -> str:
    return {Action.ACCEPT: "受理 1024", Action.RESOLVE: "办结 1024 已更换灯泡", Action.REASSIGN: "转派 1024 何警官",
            Action.ESCALATE: "上报 1024 需要城管", Action.CLOSE: "关闭 1024", Action.CANCEL: "撤销 1024",
            Action.REOPEN: "重开 1024", "view": "查询 1024"}.get(action, "查询 1024")
