"""Care in chat: the daily 报平安 answered, paused or confirmed by a helper; `#走访` / `#电访` recorded; the job
that carries every resident's check-in forward (prompt → 楼道长 → family and grid leader → urgent ticket)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.care import FAMILY, HELPER, SUBJECT, CareDesk
from bot.config.schema import CareResident
from bot.domain.care import Pause, VisitDraft, parse_pause, parse_visit_command
from bot.domain.care import wording
from bot.domain.care.confirmations import confirms_safe
from bot.feature import Feature, Job, Stage, in_work, looking
from bot.messages import Address, IncomingMessage, MessageType, Reply
from bot.work import Work
from handlers.base import Context


# a relative's "我出差三天" is about themselves: their pause must name the resident or how they call them
_ABOUT_RESIDENT = re.compile(r"我妈|我爸|妈妈|爸爸|母亲|父亲|老妈|老爸|老人|奶奶|爷爷|外婆|外公|姥姥|姥爷|婆婆|公公|老太太|老爷子|她|他")


def _about(resident: CareResident, text: str) -> bool:
    return resident.entry.name in text or _ABOUT_RESIDENT.search(text) is not None


def _desk(ctx: Context) -> CareDesk:
    return ctx.work.care


@dataclass(frozen=True, slots=True)
class CareMessage:
    """What a message means for one resident's check-in."""

    what: str  # reply / pause / confirm
    resident: CareResident
    pause: Pause | None = None
    by_proxy: bool = False


class VisitHandler:
    """`#走访 5-601 已上门，身体好` (or `#电访`, or a photo's caption) from someone with a care duty."""

    name = "care_visit"

    def match(self, msg: IncomingMessage, ctx: Context) -> VisitDraft | None:
        if not ctx.config.care.residents:
            return None
        return parse_visit_command(msg.text, photo=msg.type == MessageType.IMAGE)

    async def handle(self, msg: IncomingMessage, args: VisitDraft, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
        # the answer names the resident: never in a group, always in the sender's private chat
        to = Address.contact(msg.sender_id)
        if not desk.has_duty(ctx.sender):
            return [Reply(to, wording.visit_forbidden_text(), (), priority=4, kind="care_visit")]
        assert ctx.sender is not None
        text = await desk.record_visit(ctx.sender, args, await ctx.message_id())
        return [Reply(to, text, (), priority=4, kind="care_visit")]


class CheckInHandler:
    """A message from someone in a check-in: the resident or their proxy answering (anything counts), a pause
    ("我去女儿家住一周"), or a helper's "见到了，挺好". Taken only while that check-in is open today (or for a
    pause), so ordinary messages from the same people go on to the other handlers."""

    name = "care_check_in"

    async def match(self, msg: IncomingMessage, ctx: Context) -> CareMessage | None:
        if not ctx.config.care.residents or msg.text.lstrip().startswith(("#", "＃")):
            return None
        desk = _desk(ctx)
        roles = desk.roles_of(msg.sender_id, ctx.sender)
        if not roles:
            return None
        private = not msg.conversation.is_room
        pause = parse_pause(msg.text, desk.today()) if msg.type == MessageType.TEXT else None
        helpers: list[CareResident] = []
        for resident, role in roles:
            by_proxy = role == FAMILY or (role == SUBJECT and desk.is_proxy(resident))
            if pause is not None and role in (SUBJECT, FAMILY) and (not by_proxy or _about(resident, msg.text)):
                return CareMessage("pause", resident, pause, by_proxy=by_proxy)
            if role == SUBJECT and await desk.is_open(resident):
                # in a group only plain chat is taken; a report or a photo goes on (the inbox counts it anyway)
                plain = ctx.parse is None or ctx.parse.kind in ("chat", "ack")
                if private or (plain and msg.type == MessageType.TEXT):
                    return CareMessage("reply", resident)
            if role in (FAMILY, HELPER) and private and confirms_safe(msg.text) and await desk.is_open(resident):
                helpers.append(resident)
        if len(helpers) > 1:  # "见到了" while asked about two: only the one named
            helpers = [r for r in helpers if r.entry.name in msg.text]
        return CareMessage("confirm", helpers[0]) if len(helpers) == 1 else None

    async def handle(self, msg: IncomingMessage, args: CareMessage, ctx: Context) -> list[Reply]:
        desk = _desk(ctx)
        if args.what == "pause":
            assert args.pause is not None
            return await desk.pause(args.resident, args.pause, msg.sender_id, Address.contact(msg.sender_id),
                                    by_proxy=args.by_proxy)
        if args.what == "confirm":
            return await desk.confirm(args.resident, msg.sender_id, msg.text, msg.conversation)
        return await desk.sign_of_life(args.resident, msg.sender_id, msg.type.value, msg.text, msg.conversation)


async def _advance(work: Work) -> int:
    """Every resident's check-in step now due, done and recorded."""
    return work.say(await work.care.advance())


async def _next_step(work: Work) -> datetime | None:
    return await work.care.next_due()


async def _remind(work: Work) -> int:
    """Each responsible person late with a visit or call told privately, once a day, outside quiet hours."""
    return work.say(await work.care_reminders.remind())


async def _next_reminder(work: Work) -> datetime | None:
    return await work.care_reminders.next_due()


FEATURE = Feature(
    "care",
    handlers={Stage.COMMAND: [VisitHandler()], Stage.FOLLOW_UP: [CheckInHandler()]},
    jobs=[Job("care_check_in", in_work(_advance, "care check-in"), hint=in_work(_next_step, "next care step")),
          Job("care_visit_reminders", in_work(_remind, "care visit reminders"),
              hint=looking(_next_reminder, "next care visit reminder"))],
)
