"""Satisfaction in chat: the question once a ticket closes (a job), and the reporter's answer (`Stage.SURVEY`).

The answer is taken before the ticket follow-ups, so "3 灯还是不亮" from the reporter who was asked is a rating
(recorded, the ticket reopened and passed up) rather than a bare reopen. When a poll opened in the group after
the question, a reply that is also a vote goes to the poll: the later question is the one being answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.satisfaction import Score
from bot.feature import Feature, Job, Stage, in_work, looking
from bot.messages import Address, IncomingMessage, MessageType, Reply
from bot.polls import PollDesk
from bot.work import Work
from handlers.base import Context
from storage.models import SatisfactionRow


@dataclass(frozen=True, slots=True)
class Rating:
    row: SatisfactionRow
    score: Score


class SatisfactionAnswerHandler:
    """The reporter's reply, in the conversation where they were asked, within `satisfaction.window`."""

    name = "satisfaction"

    async def match(self, msg: IncomingMessage, ctx: Context) -> Rating | None:
        if msg.type != MessageType.TEXT or not msg.text.strip():
            return None
        if msg.conversation.is_room:
            if ctx.room is None:
                return None
            where = Address.room(ctx.room.key)
        else:
            where = Address.contact(msg.sender_id)
        desk = ctx.work.satisfaction
        score = desk.score_of(msg.text)
        if score is None:
            return None
        row = await desk.waiting(msg.sender_id, where)
        if row is None:
            return None
        if ctx.room is not None:
            poll = await ctx.work.polls.voting_in(ctx.room.key)
            if poll is not None and poll.opened_at > row.asked_at and PollDesk.option_of(poll, msg.text) is not None:
                return None
        return Rating(row, score)

    async def handle(self, msg: IncomingMessage, args: Rating, ctx: Context) -> list[Reply]:
        mention = (msg.sender_id,) if msg.conversation.is_room else ()
        return await ctx.work.satisfaction.record(args.row, args.score, msg.text, name=msg.sender_name,
                                                  reply_to=msg.conversation, mention=mention)


async def _ask(work: Work) -> int:
    return work.say(await work.satisfaction.ask_due())


async def _next_ask(work: Work) -> datetime | None:
    return await work.satisfaction.next_ask()


FEATURE = Feature(
    "satisfaction",
    handlers={Stage.SURVEY: [SatisfactionAnswerHandler()]},
    jobs=[Job("satisfaction_questions", in_work(_ask, "satisfaction questions"),
              hint=looking(_next_ask, "next satisfaction question"))],
)
