"""Residents' "收到 / 已阅 / 👌 / 已转发给租客" in a group that received a notice: counted once per member."""

from __future__ import annotations

from bot.domain.acks import answers_notice, opens_with_ack
from bot.domain.people import household_of
from bot.messages import IncomingMessage, Reply
from handlers.base import Context


class AckHandler:
    """An acknowledgement (the parser's kind "ack"; a bare "收到" counts while a notice is pending in the group).

    Registered after the ticket confirmation handler: "好了，谢谢" from a reporter whose ticket awaits
    confirmation closes the ticket even in a group that had a notice the same week.
    """

    name = "ack"

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        if ctx.parse is None or getattr(ctx.parse, "kind", None) != "ack" or ctx.room is None:
            return None
        return True

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        if answers_notice(msg.text):  # "谢谢大家" is said to the group, not to the notice
            await record_reply(msg, ctx)
        return []  # acknowledgements are counted, not answered: a reply to every "收到" would flood the group


async def record_reply(msg: IncomingMessage, ctx: Context) -> bool:
    """Count the sender's reply to the notice pending in this group (if any)."""
    if ctx.room is None:
        return False
    desk = ctx.work.notices
    return await desk.record_ack(ctx.room.key, msg.sender_id, msg.sender_name, household_of(msg.sender_name))


async def record_reply_in_report(msg: IncomingMessage, ctx: Context) -> bool:
    """A report that opens with "收到，……" answers the notice as well as reporting (handlers/tickets.py)."""
    return opens_with_ack(msg.text) and await record_reply(msg, ctx)
