"""`#日报` / `#周报`: a leader asks for the digest of their own subtree, for today or this week so far."""

from __future__ import annotations

from datetime import datetime

from bot.domain.digest import calendar_period
from bot.feature import Feature, Job, Stage
from bot.messages import IncomingMessage, Reply
from bot.work import Services
from handlers.base import Context
from handlers.commands import CommandArgs, parse_command, reply_to

WORDS = {"日报": "day", "今日": "day", "周报": "week", "本周": "week"}


class DigestCommandHandler:
    name = "digest_command"

    def match(self, msg: IncomingMessage, ctx: Context) -> CommandArgs | None:
        command = parse_command(msg.text)
        if command is not None and command.name in WORDS:
            return command
        return None

    async def handle(self, msg: IncomingMessage, args: CommandArgs, ctx: Context) -> list[Reply]:
        sender = ctx.sender
        node = _top_led_node(ctx, sender.key) if sender is not None else None
        if node is None:
            return [reply_to(msg, "日报、周报只发给负责人（书记、网格长等）。有问题直接在群里说，我来登记。")]
        wanted = args.rest.split()[0] if args.rest.split() else ""
        if wanted and wanted in ctx.tree:
            if not ctx.tree.is_within(wanted, node):
                return [reply_to(msg, f"{wanted} 不在您负责的范围内，只能看 {ctx.tree.node(node).name} 及以下。")]
            node = wanted
        period = calendar_period(WORDS[args.name], ctx.now.astimezone(ctx.config.tz).date(), ctx.config.tz)
        text, _ = await ctx.work.digests.compose(node, period)
        return [reply_to(msg, text, mention_sender=False, kind="digest", priority=4)]


def _top_led_node(ctx: Context, person_key: str) -> str | None:
    """The highest node where the person holds a leading role (their widest view)."""
    led = [code for code, role in ctx.directory.positions(person_key)
           if role in ctx.directory.roles and ctx.directory.roles[role].leads]
    return min(led, key=lambda code: (ctx.tree.node(code).depth, code)) if led else None


async def _send_digests(services: Services) -> int:
    """Queue the daily and weekly digests that are due and not yet recorded (missed ones once, in grace)."""
    if services.digests is None:
        return 0
    queued = await services.digests.run(services.clock.now())
    if queued:
        services.wake()
    return len(queued)


async def _next_digest(services: Services) -> datetime | None:
    return None if services.digests is None else await services.digests.next_work(services.clock.now())


FEATURE = Feature("digests", handlers={Stage.COMMAND: [DigestCommandHandler()]},
                  jobs=[Job("digests", _send_digests, hint=_next_digest)])
