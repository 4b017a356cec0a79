"""The household registry in chat: `#无人在群 [节点]`, a leader's list of registered households nobody reaches.

The list names residents (phones masked), so asked in a group it is answered privately, with a short note in
the group; in a private chat it is answered there.
"""

from __future__ import annotations

from bot.feature import Feature, Stage
from bot.messages import Address, IncomingMessage, Reply
from handlers.base import Context
from handlers.commands import CommandArgs, parse_command, reply_to

WORD = "无人在群"


class UnreachedHandler:
    """`#无人在群` or `#无人在群 JQS-01-01`: the households of the leader's subtree that no group member reaches."""

    name = "households_unreached"

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        command = parse_command(msg.text)
        if command is None or not command.name.startswith(WORD):
            return None
        rest = (command.name[len(WORD):] + " " + command.rest).strip()
        return CommandArgs(WORD, rest.split()[0] if rest else "")

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        where = ctx.node if msg.conversation.is_room else None
        if ctx.sender is None or not msg.conversation.is_room:
            return await ctx.work.households.unreached_list(ctx.sender, where, args.rest, msg.conversation)
        replies = await ctx.work.households.unreached_list(ctx.sender, where, args.rest,
                                                           Address.contact(msg.sender_id))
        if replies and replies[0].kind == "households_unreached":
            return [*replies, reply_to(msg, "名单涉及住户信息，已私信发给您。")]
        return [reply_to(msg, r.text) for r in replies]  # a refusal is said where it was asked


FEATURE = Feature("households", handlers={Stage.COMMAND: [UnreachedHandler()]})
