"""微议事 in chat: a leader's `#议事` in a group, `#议事结果`, `#结束议事`, residents' votes, and the deadline job.

Votes are read only where a poll is open and only when `interpret_vote` finds an option, at `Stage.VOTE`: after
the ticket follow-ups (a reporter's "好了" still confirms their ticket), before notice acknowledgements — so while
a poll is open in a group, a bare "1" there is a vote, not a "收到" to a pending notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain import polls_wording as wording
from bot.domain.polls import command_kind
from bot.feature import Feature, Job, Stage, in_work, looking
from bot.messages import IncomingMessage, MessageType, Reply
from bot.polls import PollDesk
from bot.work import Work
from handlers.base import Context
from storage.models import PollRow


def _desk(ctx: Context) -> PollDesk:
    return ctx.work.polls


class PollCommandHandler:
    """`#议事 问题 1.同意 2.不同意 截止 周五20点 [过半数] [关联 #1023]`, `#议事结果 [编号]`, `#结束议事`."""

    name = "poll_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> str | None:
        return command_kind(msg.text) if msg.type == MessageType.TEXT else None

    async def handle(self, msg: IncomingMessage, args: str, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
        in_group = msg.conversation.is_room and ctx.room is not None
        room_key = ctx.room.key if in_group and ctx.room is not None else None
        if args == "result":
            found = re.search(r"\d+", msg.text)
            return await desk.result(ctx.sender, room_key, int(found.group(0)) if found else None, msg.conversation)
        if args == "close":
            return await desk.finish(ctx.sender, room_key, msg.conversation)
        if room_key is None or ctx.node is None:
            return [Reply(msg.conversation, wording.ONLY_IN_GROUP, kind="poll_answer")]
        return await desk.open(ctx.sender, ctx.node, room_key, msg.conversation.id, msg.text, msg.conversation)


@dataclass(frozen=True, slots=True)
class VoteArgs:
    poll: PollRow
    option: int | None  # None: the poll's deadline has just passed


class VoteHandler:
    """A resident's answer in a group with an open poll: a number or their own words (bot.domain.stance)."""

    name = "poll_vote"

    async def match(self, msg: IncomingMessage, ctx: Context) -> VoteArgs | None:
        if msg.type != MessageType.TEXT or not msg.conversation.is_room or ctx.room is None or not msg.text.strip():
            return None
        desk = _desk(ctx)
        poll, voting = await desk.current(ctx.room.key)
        if poll is None or not desk.is_voter(poll, msg.sender_id):
            return None
        option = desk.option_of(poll, msg.text)
        if option is None:
            return None
        return VoteArgs(poll, option if voting else None)

    async def handle(self, msg: IncomingMessage, args: VoteArgs, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
        mention = (msg.sender_id,)
        if args.option is None:
            return desk.late(args.poll, msg.conversation, mention, msg.sender_name)
        return await desk.vote(args.poll, member_id=msg.sender_id, member_name=msg.sender_name, option=args.option,
                               text=msg.text, reply_to=msg.conversation, mention=mention)


async def _close_due(work: Work) -> int:
    return work.say(await work.polls.close_due())


async def _next_deadline(work: Work) -> datetime | None:
    return await work.polls.next_deadline()


FEATURE = Feature(
    "polls",
    handlers={Stage.COMMAND: [PollCommandHandler()], Stage.VOTE: [VoteHandler()]},
    jobs=[Job("poll_deadlines", in_work(_close_due, "poll deadlines"),
              hint=looking(_next_deadline, "next poll deadline"))],
)

__all__ = ["FEATURE", "PollCommandHandler", "VoteHandler"]
