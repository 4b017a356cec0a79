"""Notices in chat: `#通知` down the tree and `#回执` for the roll-up (residents' "收到" is handlers/ack.py)."""

from __future__ import annotations

import re
from datetime import datetime

from bot.feature import Feature, Job, Stage, in_work, looking
from bot.messages import IncomingMessage, Reply
from bot.notices import NoticeDesk
from bot.work import Work
from handlers.ack import AckHandler
from handlers.base import Context
from handlers.commands import CommandArgs, parse_command, reply_to


def _desk(ctx: Context) -> NoticeDesk:
    return ctx.work.notices


class NoticeHandler:
    """`#通知 [只发房东群] [截止 明天18点] 正文` from a leader, in a group they lead or privately."""

    name = "notice"
    words = ("通知", "公告", "发通知")

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        command = parse_command(msg.text)
        return command if command is not None and command.name in self.words else None

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        node = ctx.node if msg.conversation.is_room else None
        return await _desk(ctx).post(ctx.sender, node, args.rest, reply_to=msg.conversation,
                                     posted_in_origin=node is not None)


class ReceiptHandler:
    """`#回执 [编号]`: who has acknowledged a notice, per group and per tier."""

    name = "receipt"

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        command = parse_command(msg.text)
        if command is None:
            return None
        joined = f"{command.name} {command.rest}"
        return command if re.match(r"^回执", joined) else None

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        found = re.search(r"\d+", f"{args.name} {args.rest}")
        return await _desk(ctx).receipt(ctx.sender, int(found.group(0)) if found else None, msg.conversation)


async def _remind(work: Work) -> int:
    return work.say(await work.notices.remind())


async def _next_reminder(work: Work) -> datetime | None:
    return await work.notices.next_reminder()


FEATURE = Feature(
    "notices",
    handlers={Stage.COMMAND: [NoticeHandler(), ReceiptHandler()], Stage.ACK: [AckHandler()]},
    jobs=[Job("notice_reminders", in_work(_remind, "notice reminders"),
              hint=looking(_next_reminder, "next reminder"))],
)

__all__ = ["FEATURE", "NoticeHandler", "ReceiptHandler", "reply_to"]
