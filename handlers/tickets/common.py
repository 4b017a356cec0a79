"""What the ticket handlers share: the reporter of a message, the desk, one answer for several reports."""

from __future__ import annotations


from bot.messages import IncomingMessage, Reply
from bot.tickets import Reporter, TicketDesk
from handlers.base import Context


async def reporter_of(msg: IncomingMessage, ctx: Context) -> Reporter:
    assert ctx.node is not None
    return Reporter(id=msg.sender_id, name=msg.sender_name, room_id=msg.room_id,
                    room_key=ctx.room.key if ctx.room else None, node=ctx.node, message_row_id=await ctx.message_id())


def desk_of(ctx: Context) -> TicketDesk:
    return ctx.work.tickets


def one_reply(answers: list[Reply], msg: IncomingMessage) -> Reply:
    prefix = f"@{msg.sender_name} " if msg.conversation.is_room else ""
    lines = [f"{n}. {r.text.removeprefix(prefix)}" for n, r in enumerate(answers, 1)]
    first = answers[0]
    mentions = tuple(dict.fromkeys(m for r in answers for m in r.mentions))
    return Reply(first.to, f"{prefix}您反映了 {len(answers)} 件事，已分别登记：\n" + "\n".join(lines), mentions,
                 priority=min(r.priority for r in answers), kind=first.kind, ref=first.ref)
