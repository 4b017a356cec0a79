"""Answers to what the bot asked about a case: photos, "好了谢谢" / "还是不行", withdrawals, a handler's "收到"."""

from __future__ import annotations

import re
import unicodedata

from bot.domain.people import household_of
from bot.domain.tickets import Action, is_acceptance, quoted_ticket, split_quote
from bot.messages import IncomingMessage, MessageType, Reply
from handlers.base import Context
from handlers.commands import reply_to
from handlers.tickets.common import desk_of


CONFIRM = re.compile(r"^\s*(好了|好啦|解决了|已解决|修好了|搞定了?|可以了|没问题了?|谢谢|感谢|确认|ok|OK|👍)")
DENY = re.compile(r"(还没|没有?修好|没解决|还是(坏|不|没|一样)|又坏|不行|没好|还在|依旧|仍然)")
# from anyone in the group (not only the reporter) the wording must leave no doubt
STILL_BROKEN = re.compile(r"(还是(不|没|坏|一样|老样子)|又(坏|不亮|不动|停|漏|没|堵|黑|臭)|没有?修好|没解决|"
                          r"还在(漏|滴|渗|堵|臭|响|冒)|还没(好|修|来水|来电|通)|依然|依旧|仍然)")
# the reporter takes their report back: a false alarm, or it sorted itself out
WITHDRAW = re.compile(r"(看错|搞错|弄错|误会了|误报|没事了|没事啦|没事儿了|已经好了|自己好了|恢复了|找到了|不用了|"
                      r"不需要了|虚惊一场|已经被.{0,8}(扶|送|接|领|抬)(走|回|起)|已经(扶|送|接)(走|回|起))")


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
        desk = desk_of(ctx)
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
        return await desk_of(ctx).act(args, Action.ACCEPT, ctx.sender, note=answer.strip()[:100],
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
            ticket = await desk_of(ctx).reopen_target(msg.sender_id, room_key, text,
                                                    strong=STILL_BROKEN.search(text) is not None)
            return (ticket.number, Action.REOPEN) if ticket is not None else None
        ticket = await desk_of(ctx).awaiting_confirmation(msg.sender_id, room_key)
        if ticket is None:
            return None
        return ticket.number, Action.CONFIRM

    async def handle(self, msg: IncomingMessage, args: tuple[int, Action], ctx: Context) -> list[Reply]:
        number, action = args
        note = "居民确认已解决" if action == Action.CONFIRM else f"{msg.sender_name}反馈：{msg.text[:100]}"
        return await desk_of(ctx).act(number, action, None, note=note, reply_to=msg.conversation,
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
        ticket = await desk_of(ctx).withdrawable(msg.sender_id, room_key)
        return ticket.id if ticket is not None else None

    async def handle(self, msg: IncomingMessage, args: int, ctx: Context) -> list[Reply]:
        desk = desk_of(ctx)
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
        ticket = await desk_of(ctx).attach_image(row, msg.payload)
        if ticket is None:
            return []
        return [reply_to(msg, f"照片已附到工单 #{ticket.number}。", priority=6, kind="ticket_photo")]
