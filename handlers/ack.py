"""Residents' "收到 / 已阅 / 👌 / 已转发给租客" in a group that received a notice: counted once per member."""

from __future__ import annotations

from bot.domain.people import household_of
from bot.messages import IncomingMessage, Reply
from bot.notices import NoticeDesk
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
        assert ctx.room is not None
        desk = NoticeDesk(ctx.session, ctx.config, ctx.directory, ctx.now, ctx.bot_id)
        await desk.record_ack(ctx.room.key, msg.sender_id, msg.sender_name, household_of(msg.sender_name))
        return []  # acknowledgements are counted, not answered: a reply to every "收到" would flood the group
