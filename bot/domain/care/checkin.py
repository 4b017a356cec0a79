"""Daily 报平安 as a pure planner: given one day's plan, what has been sent and what came back, the next step.

A day goes PROMPT (at 09:00) → no answer by 11:00 → LOOK_IN (楼道长/微网格长 knock on the door) → no answer
`second_after` later → ALERT (the family and the grid leader) → `ticket_after` later → TICKET (urgent,
"独居老人无法联系"). Any message counts as an answer — "1", any words, an emoji, a voice message, a photo —
and so does a confirmation the caller passes on behalf of the resident (a relative or the 楼道长 saying all is
well). Each step is measured from when the one before it was actually done, so a bot that was down all morning
never asks for a knock on the door the minute it sends its first prompt. A step whose recipients are missing is
skipped (no 楼道长 configured: the family and grid leader hear at 11:00).

The caller keeps `steps_done` (step kind → when it was done) and calls `next_step` whenever something may have
changed (a tick of the scheduler, a message from the resident); it performs the step and records it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from bot.domain.care.ledger import CareEntry, first_responders
from bot.domain.care.pauses import Pause, holiday_pause
from bot.domain.grid import GridTree


class StepKind(str, Enum):
    """What the planner asks for now."""

    WAIT = "wait"          # nothing yet (`Step.due`: when to look again, None: nothing more today)
    PROMPT = "prompt"      # send the resident the 报平安 prompt
    LOOK_IN = "look_in"    # ask the first escalation (楼道长/微网格长) to look in
    ALERT = "alert"        # tell the family proxy and the grid leader
    TICKET = "ticket"      # open the urgent ticket 独居老人无法联系
    ANSWERED = "answered"  # done for the day: the resident (or someone for them) answered
    PAUSED = "paused"      # no check-in today: a holiday or a pause


_CHAIN = (StepKind.LOOK_IN, StepKind.ALERT, StepKind.TICKET)


@dataclass(frozen=True, slots=True)
class CheckInPlan:
    """One resident's daily check-in: when to ask, how long to wait, whom to tell when nobody answers."""

    subject: str                          # care entry key (the caller knows how to reach them)
    at: time = time(9, 0)
    answer_by: time = time(11, 0)
    first_escalation: tuple[str, ...] = ()   # person keys: 楼道长 / 微网格长
    second_escalation: tuple[str, ...] = ()  # contacts: family proxies, then the grid leader
    second_after: timedelta = timedelta(minutes=30)
    ticket_after: timedelta = timedelta(minutes=30)
    replies_from: time = time(5, 0)       # a message since dawn counts: an early riser is not asked again
    latest_prompt: time = time(18, 0)     # a bot back after this sends no prompt that day
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.answer_by <= self.at:
            raise ValueError("answer_by must come after at")

    def moment(self, day: date, at: time) -> datetime:
        """`at` on `day` in the plan's time zone."""
        return datetime.combine(day, at, ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True)
class Reply:
    """A message about the resident: theirs (`by_subject`), or a confirmation from someone who saw them."""

    at: datetime
    kind: str = "text"   # a MessageType value: text, image, voice, emoticon, video ...
    text: str = ""
    by_subject: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    """What to do now; `recipients` are whom the step addresses (for ANSWERED: those to stand down)."""

    kind: StepKind
    due: datetime | None = None
    recipients: tuple[str, ...] = ()
    reply: Reply | None = None
    pause: Pause | None = None


def counts_as_reply(kind: str, text: str) -> bool:
    """Anything the resident sends is a sign of life, except an empty text (a recalled or blank message)."""
    kind = getattr(kind, "value", kind)
    return kind not in ("text", "unknown") or bool((text or "").strip())


def active_pause(pauses: Iterable[Pause], day: date, replies: Iterable[Reply], now: datetime,
                 timezone: str = "Asia/Shanghai") -> Pause | None:
    """The pause covering `day` that no later message of the resident's has ended, if any.

    A message ends a pause when the resident sends it on a day after announcing the pause and inside it; the
    words of the announcement itself ("我去女儿家住一周", then "谢谢") end nothing."""
    tz = ZoneInfo(timezone)
    own_days = [r.at.astimezone(tz).date() for r in replies
                if r.by_subject and r.at <= now and counts_as_reply(r.kind, r.text)]
    for pause in pauses:
        if not pause.covers(day):
            continue
        ended = any(pause.said_on < d <= day and d >= pause.start for d in own_days)
        if not ended:
            return pause
    return None


def _answer(plan: CheckInPlan, day: date, now: datetime, replies: Iterable[Reply]) -> Reply | None:
    since = plan.moment(day, plan.replies_from)
    counted = [r for r in replies if since <= r.at <= now and counts_as_reply(r.kind, r.text)]
    return min(counted, key=lambda r: r.at) if counted else None


def next_step(plan: CheckInPlan, day: date, now: datetime, replies: Iterable[Reply] = (),
              pauses: Iterable[Pause] = (), steps_done: Mapping[str, datetime] | None = None, *,
              holidays: Collection[date] = ()) -> Step:
    """The step due at `now` for `day`'s check-in (WAIT with the time of the next one when none is due)."""
    done = {StepKind(k): v for k, v in (steps_done or {}).items()}
    replies = list(replies)
    answer = _answer(plan, day, now, replies)
    if answer is not None:
        asked = tuple(dict.fromkeys(
            person for kind, people in ((StepKind.LOOK_IN, plan.first_escalation),
                                        (StepKind.ALERT, plan.second_escalation))
            if kind in done for person in people))
        return Step(StepKind.ANSWERED, due=answer.at, recipients=asked, reply=answer)
    if day in holidays:
        return Step(StepKind.PAUSED, pause=holiday_pause(day))
    pause = active_pause(pauses, day, replies, now, plan.timezone)
    if pause is not None:
        return Step(StepKind.PAUSED, pause=pause)

    if StepKind.PROMPT not in done:
        prompt_at = plan.moment(day, plan.at)
        if now < prompt_at:
            return Step(StepKind.WAIT, due=prompt_at)
        if now >= plan.moment(day, plan.latest_prompt):
            return Step(StepKind.WAIT)
        return Step(StepKind.PROMPT, due=prompt_at, recipients=(plan.subject,))

    window = plan.moment(day, plan.answer_by) - plan.moment(day, plan.at)
    due = max(plan.moment(day, plan.answer_by), done[StepKind.PROMPT] + window)
    delays = {StepKind.LOOK_IN: plan.second_after, StepKind.ALERT: plan.ticket_after}
    recipients = {StepKind.LOOK_IN: plan.first_escalation, StepKind.ALERT: plan.second_escalation,
                  StepKind.TICKET: ()}
    for kind in _CHAIN:
        if kind in done:
            if kind is StepKind.TICKET:
                return Step(StepKind.WAIT)  # the ticket carries on from here
            due = done[kind] + delays[kind]
            continue
        if kind is not StepKind.TICKET and not recipients[kind]:
            continue  # nobody to ask at this level: the next level is due at once
        if now < due:
            return Step(StepKind.WAIT, due=due)
        return Step(kind, due=due, recipients=recipients[kind])
    return Step(StepKind.WAIT)


def plan_for(entry: CareEntry, tree: GridTree, *, first_roles: Sequence[str] = ("楼道长", "微网格长"),
             leader_roles: Sequence[str] = ("网格长",), **timing: object) -> CheckInPlan:
    """The plan for a ledger entry: its nearest 楼道长 (else 微网格长) first, then its family and grid leader.

    `timing` passes on CheckInPlan's times (at, answer_by, second_after, ticket_after ...)."""
    first = tuple(p for p in first_responders(tree, entry.node_code, first_roles) if p != entry.key)
    leaders = first_responders(tree, entry.node_code, leader_roles)
    second = tuple(dict.fromkeys([*(r.contact for r in entry.family), *leaders]))
    return CheckInPlan(subject=entry.key, first_escalation=first, second_escalation=second,
                       **timing)  # type: ignore[arg-type]
