"""Notices in chat: `#通知` down the tree and `#回执` for the roll-up (residents' "收到" is handlers/ack.py)."""

from __future__ import annotations

import re

from bot.messages import IncomingMessage, Reply
from bot.notices import NoticeDesk
from handlers.base import Context
from handlers.commands import CommandArgs, parse_command, reply_to


def _desk(ctx: Context) -> NoticeDesk:
    return NoticeDesk(ctx.session, ctx.config, ctx.directory, ctx.now, ctx.bot_id)


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


__all__ = ["NoticeHandler", "ReceiptHandler", "reply_to"]
