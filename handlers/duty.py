"""`#值班` in a group or privately: who is on duty tonight for that node (anyone may ask)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.feature import Feature, Stage
from bot.messages import IncomingMessage, Reply
from handlers.base import Context
from handlers.commands import parse_command, reply_to


@dataclass(frozen=True, slots=True)
class DutyQuestion:
    asked: str  # a node code or name, or "" for the group's own node


class DutyHandler:
    """`#值班 [网格编码或名称]` → tonight's shifts."""

    name = "duty"

    def match(self, msg: IncomingMessage, ctx: Context) -> DutyQuestion | None:
        command = parse_command(msg.text)
        if command is None or not command.name.startswith("值班"):
            return None
        return DutyQuestion((command.name[len("值班"):] + " " + command.rest).strip())

    async def handle(self, msg: IncomingMessage, args: DutyQuestion, ctx: Context) -> list[Reply]:
        node = ctx.node if msg.conversation.is_room else None
        answers = ctx.work.duty.tonight(node, ctx.sender, args.asked, msg.conversation)
        return [reply_to(msg, answer.text, kind=answer.kind) for answer in answers]


FEATURE = Feature("duty", handlers={Stage.COMMAND: [DutyHandler()]})
