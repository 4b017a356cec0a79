"""Reports told to the bot in a private chat: the place from the sender's groups, or asked for and answered."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

from bot.domain.grid import GridNode

from bot.domain.parsing import ParseResult
from bot.messages import IncomingMessage, MessageType, Reply
from bot.tickets import Reporter
from handlers.base import Context
from handlers.commands import reply_to
from storage.models import MessageRow
from handlers.tickets.common import desk_of


ASK_PLACE = "请问您住哪栋楼/哪个群？"
_ASKED = "private_ask_place"
_PLACED = "private_place"


def _private_report(msg: IncomingMessage, ctx: Context) -> bool:
    return (msg.conversation.kind == "contact" and msg.type == MessageType.TEXT
            and getattr(ctx.parse, "kind", None) == "report")


async def _home_node(msg: IncomingMessage, ctx: Context) -> GridNode | None:
    """The sender's node from the groups they are in: the deepest, then the most recently joined."""
    tree = ctx.tree
    found = []
    for order, member in enumerate(await desk_of(ctx).memberships_of(msg.sender_id)):
        room = tree.room(room_id=member.room_key, topic=member.room_key)
        if room is not None:
            found.append((-len(tree.lineage(room.node_code)), order, tree.node(room.node_code)))
    return min(found, key=lambda f: f[:2])[2] if found else None


def _place_from_answer(text: str, ctx: Context) -> GridNode | None:
    """'3号楼' / '江桥花苑3号楼微网格' → the node: a group's topic first, else a node name, the widest match."""
    answer = unicodedata.normalize("NFKC", text or "").strip(" 。.，,！!")
    if not answer:
        return None
    tree = ctx.tree
    for node in tree:
        for room in node.rooms:
            if room.topic and unicodedata.normalize("NFKC", room.topic) == answer:
                return node
    matches = [node for node in tree if answer in unicodedata.normalize("NFKC", node.name)
               or unicodedata.normalize("NFKC", node.name) in answer]
    if not matches:
        return None
    return min(matches, key=lambda n: (len(tree.lineage(n.code)), len(n.name)))


async def _open_private(msg: IncomingMessage, ctx: Context, node: Any, parse: Any, text: str) -> list[Reply]:
    """A private report at the sender's node: the reporter has no group, so everything goes to them privately."""
    reporter = Reporter(id=msg.sender_id, name=msg.sender_name, room_id=None, room_key=None, node=node,
                        message_row_id=await ctx.message_id())
    ticket, _merged, replies = await desk_of(ctx).report(reporter, parse, text)
    if ctx.message_row is not None:
        ctx.message_row.ticket_id = ticket.id
    ctx.extras["ticket_id"] = ticket.id
    return replies


class PrivateReportHandler:
    """A resident's report sent to the bot privately: a ticket at their node, known from their groups."""

    name = "private_report"

    async def match(self, msg: IncomingMessage, ctx: Context) -> GridNode | None:
        if not _private_report(msg, ctx):
            return None
        return await _home_node(msg, ctx)

    async def handle(self, msg: IncomingMessage, args: GridNode, ctx: Context) -> list[Reply]:
        return await _open_private(msg, ctx, args, ctx.parse, msg.text)


class PrivateAskPlaceHandler:
    """A private report from someone in none of our groups: one short question, the answer places it."""

    name = _ASKED

    def match(self, msg: IncomingMessage, ctx: Context) -> bool | None:
        return True if _private_report(msg, ctx) else None

    async def handle(self, msg: IncomingMessage, args: bool, ctx: Context) -> list[Reply]:
        return [reply_to(msg, ASK_PLACE)]


class PrivatePlaceHandler:
    """The answer to "请问您住哪栋楼/哪个群？": a building or group name opens the held report there."""

    name = _PLACED

    async def match(self, msg: IncomingMessage, ctx: Context) -> tuple[MessageRow, Any] | None:
        if msg.conversation.kind != "contact" or msg.type != MessageType.TEXT or not msg.text:
            return None
        if len(msg.text) > 40:
            return None  # a new report, not an answer
        node = _place_from_answer(msg.text, ctx)
        if node is None and getattr(ctx.parse, "kind", None) == "report":
            return None
        recent = await desk_of(ctx).recent_private_from(msg.sender_id, ctx.now - timedelta(days=1))
        if not recent or recent[0].handler not in (_ASKED, _PLACED):
            return None
        asked = next((row for row in recent if row.handler == _ASKED and row.ticket_id is None), None)
        return None if asked is None else (asked, node)

    async def handle(self, msg: IncomingMessage, args: tuple[MessageRow, Any], ctx: Context) -> list[Reply]:
        asked, node = args
        if node is None:
            return [reply_to(msg, f"没找到“{msg.text.strip()[:20]}”。请写楼号或群名，例如“江桥花苑3号楼”。")]
        replies = await _open_private(msg, ctx, node, ParseResult.from_dict(asked.parse or {}), asked.text)
        asked.ticket_id = ctx.extras["ticket_id"]
        return replies
