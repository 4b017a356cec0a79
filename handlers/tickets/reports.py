"""Residents' reports in a group (new tickets, "+1", several problems at once) and questions about earlier ones."""

from __future__ import annotations

import re

from bot.messages import IncomingMessage, Reply
from handlers.ack import record_reply_in_report
from handlers.base import Context
from handlers.commands import reply_to
from handlers.tickets.commands import NUMBER, view_ticket
from handlers.tickets.common import desk_of, one_reply, reporter_of


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
        number = NUMBER.search(msg.text or "")
        return int(number.group(1)) if number and re.search(r"查询|工单|进度|编号|#", msg.text) else True

    async def handle(self, msg: IncomingMessage, args: int | bool, ctx: Context) -> list[Reply]:
        if args is not True and isinstance(args, int):
            return await view_ticket(msg, ctx, args)
        desk = desk_of(ctx)
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
        reporter = await reporter_of(msg, ctx)
        desk = desk_of(ctx)
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
            answers = [one_reply(answers, msg)]
        return answers + others
