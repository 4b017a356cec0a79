"""The review queue in chat: a likely but uncertain report is held for a leader (no reply in the group), and
leaders answer `#登记 N` / `#忽略 N` in their private chat with the bot or in any group they lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.feature import Feature, Job, Stage, in_work, looking
from bot.messages import IncomingMessage, Reply
from bot.review import ReviewDesk, held_from
from bot.work import Work
from handlers.ack import record_reply_in_report
from handlers.base import Context
from handlers.commands import parse_command, reply_to
from handlers.tickets.common import desk_of, reporter_of

_WORDS = {"登记": True, "立案": True, "忽略": False, "不处理": False}


@dataclass(frozen=True, slots=True)
class ReviewCommand:
    register: bool
    number: int | None


def _desk(ctx: Context) -> ReviewDesk:
    return ctx.work.review


class ReviewCommandHandler:
    """`#登记 12` turns a held message into a ticket; `#忽略 12` dismisses it."""

    name = "review_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> ReviewCommand | None:
        command = parse_command(msg.text)
        if command is None:
            return None
        word = next((w for w in _WORDS if command.name.startswith(w)), None)
        if word is None:
            return None
        rest = (command.name[len(word):] + " " + command.rest).strip().lstrip("#＃[").rstrip("]")
        digits = rest.split()[0].strip("[]#＃") if rest else ""
        return ReviewCommand(_WORDS[word], int(digits) if digits.isdigit() else None)

    async def handle(self, msg: IncomingMessage, args: ReviewCommand, ctx: Context) -> list[Reply]:
        if args.number is None:
            return [reply_to(msg, "请在命令后写待确认消息的编号，例如：#登记 12 或 #忽略 12")]
        if ctx.sender is None:
            return [reply_to(msg, "#登记 / #忽略 是网格负责人用的命令。")]
        _, replies = await _desk(ctx).decide(args.number, args.register, ctx.sender, answer_to=msg.conversation)
        return replies


class ReviewHandler:
    """A message the parser thinks is probably a report but is not sure of: held, no reply in the group."""

    name = "review"

    async def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        result = ctx.parse
        if result is None or result.kind != "report" or not getattr(result, "review", False) or ctx.node is None:
            return None
        if result.me_too and await desk_of(ctx).joinable(await reporter_of(msg, ctx), result, msg.text) is not None:
            return None  # "+1 我家也是" after a report here: it joins that ticket (the report handler), nothing to ask
        return True

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        assert ctx.node is not None
        await record_reply_in_report(msg, ctx)
        held = held_from(msg, ctx.node, ctx.room.key if ctx.room else None, await ctx.message_id())
        _, replies = await _desk(ctx).hold(held, ctx.parse)
        return replies


async def _gather(work: Work) -> int:
    """Send each leader the held messages they have not been told of (at most one list per gather_every)."""
    return work.say(await work.review.gather())


async def _next_list(work: Work) -> datetime | None:
    return await work.review.next_list()


FEATURE = Feature(
    "review",
    handlers={Stage.COMMAND: [ReviewCommandHandler()], Stage.DOUBT: [ReviewHandler()]},
    jobs=[Job("review_lists", in_work(_gather, "review lists"), hint=looking(_next_list, "next review list"))],
)
