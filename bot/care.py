"""The care desk: each resident's daily 报平安 carried out from stored state, signs of life, pauses, visits.

The ledger is config (`care.residents`); what happened is stored (storage/care_repository.py). `advance()` asks
the pure planner (`bot.domain.care.next_step`) what is due for every resident and does it, recording each step
before saying anything, in the caller's transaction: a restart neither repeats a step nor misses one, and a
step already recorded elsewhere is not said twice. Any message the resident (or their proxy) sends is a sign of
life — read from the stored inbox, whichever handler took it — and a helper's "见到了，挺好" counts too. All care
messages go privately: the ledger says who is old and alone, which no group needs to read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.config import Config
from bot.config.schema import CareResident
from bot.domain.care import (CareEntry, CheckInPlan, Pause, Reply as CareReply, Step, StepKind, Visit, VisitDraft,
                             coverage, may_see_entry, next_step, overdue_visits, plan_for, resolve, visible_entries)
from bot.domain.care import wording
from bot.domain.care.visits import normalise_address
from bot.domain.grid import Person
from bot.domain.parsing import Location, ParseResult
from bot.domain.people import Directory, household_of
from bot.messages import Address, Reply
from bot.tickets import Reporter, TicketDesk
from storage.care_repository import CareRepository
from storage.session import Session

_LOGGER = logging.getLogger(__name__)

SUBJECT, FAMILY, HELPER = "subject", "family", "helper"
_PRIORITY = {StepKind.PROMPT: 3, StepKind.LOOK_IN: 1, StepKind.ALERT: 0, StepKind.TICKET: 0, StepKind.ANSWERED: 2}


def _helpers(plan: CheckInPlan) -> tuple[str, ...]:
    return (*plan.first_escalation, *plan.second_escalation)


@dataclass(frozen=True, slots=True)
class Day:
    """What is stored about one resident's check-in on one day."""

    steps: dict[str, datetime]
    refs: dict[str, str | None]
    replies: tuple[CareReply, ...]
    pauses: tuple[Pause, ...]


class CareDesk:
    """Care actions for one unit of work; each returns the replies to queue."""

    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime) -> None:
        self.session = session
        self.config = config
        self.care = config.care
        self.directory = directory
        self.now = now
        self.tz = config.tz
        self.repo = CareRepository(session)

    # -- who is who ------------------------------------------------------------------------------

    def checked_in(self) -> list[CareResident]:
        return [r for r in self.care.residents if r.check_in is not None]

    def _ids(self, contact: str) -> list[str]:
        """A contact written in config: a person key (their contact ids) or a WeChat id as it is."""
        return self.directory.contact_ids(contact) if contact in self.config.people else [contact]

    def subject_ids(self, resident: CareResident) -> list[str]:
        return self._ids(resident.check_in.contact) if resident.check_in else []

    def is_proxy(self, resident: CareResident) -> bool:
        """The check-in is answered by someone else for the resident (a person key, not the resident's WeChat)."""
        return resident.check_in is not None and resident.check_in.contact in self.config.people

    def plan(self, resident: CareResident) -> CheckInPlan:
        assert resident.check_in is not None
        return plan_for(resident.entry, self.config.tree, at=resident.check_in.at,
                        answer_by=resident.check_in.answer_by, second_after=self.care.second_after,
                        ticket_after=self.care.ticket_after, timezone=self.config.timezone)

    def roles_of(self, sender_id: str, person: Person | None) -> list[tuple[CareResident, str]]:
        """The check-ins this sender speaks in: as the resident (or proxy), a relative, or a helper asked."""
        found = []
        for resident in self.checked_in():
            if sender_id in self.subject_ids(resident):
                found.append((resident, SUBJECT))
            elif any(sender_id in self._ids(r.contact) for r in resident.entry.family):
                found.append((resident, FAMILY))
            elif person is not None and person.key in _helpers(self.plan(resident)):  # planned only for staff
                found.append((resident, HELPER))
        return found

    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def _name(self, contact: str) -> str:
        person = self.config.people.get(contact)
        if person is not None:
            return person.name
        return next((r.label for res in self.care.residents for r in res.entry.family if r.contact == contact),
                    contact)

    def _private(self, contact: str, text: str, step: StepKind, entry: CareEntry) -> Reply | None:
        ids = self._ids(contact)
        if not ids:
            _LOGGER.warning("care %s: %s cannot be reached (no WeChat id bound)", entry.key, contact)
            return None
        return Reply(Address.contact(ids[0]), text, (), priority=_PRIORITY.get(step, 3), kind=f"care_{step.value}",
                     ref=f"care:{entry.key}")

    def _place(self, entry: CareEntry) -> str:
        tree = self.config.tree
        return tree.node(entry.node_code).name if entry.node_code in tree else ""

    # -- stored state ----------------------------------------------------------------------------

    async def _days(self, residents: list[CareResident], days: list[date]) -> dict[tuple[str, date], Day]:
        keys = [r.entry.key for r in residents]
        since = datetime.combine(min(days), time(0), self.tz)
        steps = await self.repo.steps(keys, days)
        stored = await self.repo.replies(keys, since)
        ids = {i: r for r in residents for i in self.subject_ids(r)}
        inbox = await self.repo.messages_from(list(ids), since)
        pauses = await self.repo.pauses(keys, min(days))
        state: dict[tuple[str, date], Day] = {}
        for resident in residents:
            key = resident.entry.key
            mine = self.subject_ids(resident)
            proxy = self.is_proxy(resident)
            replies = [CareReply(r.at, r.kind, r.text, r.by_subject) for r in stored if r.entry_key == key]
            # a proxy's messages elsewhere say nothing of the resident: only their private chat with the bot counts
            replies += [CareReply(m.at, m.msg_type, m.text, True) for m in inbox
                        if m.sender_id in mine and (not proxy or m.conversation_kind == "contact")]
            own = tuple(Pause(date.fromisoformat(p.start_day), date.fromisoformat(p.end_day), p.reason,
                              date.fromisoformat(p.said_on), p.text) for p in pauses if p.entry_key == key)
            for day in days:
                rows = steps.get((key, day), {})
                state[(key, day)] = Day({s: r.done_at for s, r in rows.items()}, {s: r.ref for s, r in rows.items()},
                                        tuple(sorted(replies, key=lambda r: r.at)), own)
        return state

    def _step(self, resident: CareResident, day: date, state: Day) -> Step:
        return next_step(self.plan(resident), day, self.now, state.replies, state.pauses, state.steps,
                         holidays=self.care.holidays)

    def _open_days(self, state: dict[tuple[str, date], Day], key: str) -> list[date]:
        """Today, and yesterday while its chain is still running (a prompt late in the day runs past midnight)."""
        today = self.today()
        yesterday = state.get((key, today - timedelta(days=1)))
        days = [today]
        if yesterday is not None and StepKind.PROMPT.value in yesterday.steps and not (
                {StepKind.ANSWERED.value, StepKind.TICKET.value} & set(yesterday.steps)):
            days.insert(0, today - timedelta(days=1))
        return days

    # -- the daily check-in ----------------------------------------------------------------------

    async def advance(self, residents: list[CareResident] | None = None, *, skip: str = "") -> list[Reply]:
        """Do every step now due (for these residents, else all with a check-in); `skip`: a contact not to tell
        that all is well (they said so themselves)."""
        residents = self.checked_in() if residents is None else residents
        if not residents:
            return []
        today = self.today()
        replies: list[Reply] = []
        for resident in residents:
            for _ in range(5):  # a step done may make the next due at once (nobody to ask at a level)
                state = await self._days([resident], [today - timedelta(days=1), today])
                did = False
                for day in self._open_days(state, resident.entry.key):
                    step = self._step(resident, day, state[(resident.entry.key, day)])
                    said = await self._do(resident, day, step, state[(resident.entry.key, day)], skip)
                    if said is not None:
                        replies.extend(said)
                        did = True
                if not did:
                    break
        return replies

    async def _do(self, resident: CareResident, day: date, step: Step, state: Day, skip: str) -> list[Reply] | None:
        """Record the step and say what it says; None when nothing was to be done."""
        entry = resident.entry
        if step.kind in (StepKind.WAIT, StepKind.PAUSED):
            return None
        if step.kind is StepKind.ANSWERED and StepKind.ANSWERED.value in state.steps:
            return None
        row = await self.repo.record_step(entry.key, day, step.kind.value, self.now)
        if row is None:
            return None
        prompted = state.steps.get(StepKind.PROMPT.value, self.now)
        asked = [self._name(p) for p in self.plan(resident).first_escalation
                 if StepKind.LOOK_IN.value in state.steps]
        place = self._place(entry)
        tz = self.config.timezone
        out: list[Reply | None] = []
        if step.kind is StepKind.PROMPT:
            out.append(self._prompt(resident))
        elif step.kind is StepKind.LOOK_IN:
            text = wording.look_in_text(entry, prompted, self.now, place=place, timezone=tz)
            out += [self._private(p, text, step.kind, entry) for p in step.recipients]
        elif step.kind is StepKind.ALERT:
            text = wording.alert_text(entry, prompted, self.now, asked=asked, place=place, timezone=tz)
            out += [self._private(p, text, step.kind, entry) for p in step.recipients]
        elif step.kind is StepKind.TICKET:
            ticket, said = await self._open_ticket(resident, state)
            row.ref = f"ticket:{ticket.id}"
            plan = self.plan(resident)
            text = wording.ticket_opened_text(entry, ticket.number)
            # the responsible person too: the desk's own reply to them ("已登记为工单 …") names no one
            out += [self._private(p, text, step.kind, entry)
                    for p in dict.fromkeys((entry.responsible, *plan.first_escalation, *plan.second_escalation))]
            out += said
        elif step.kind is StepKind.ANSWERED and step.reply is not None:
            text = wording.answered_text(entry, step.reply, timezone=tz)
            out += [self._private(p, text, step.kind, entry) for p in step.recipients if skip not in self._ids(p)]
        return [r for r in out if r is not None]

    def _prompt(self, resident: CareResident) -> Reply | None:
        entry, setting = resident.entry, resident.check_in
        assert setting is not None
        ids = self._ids(setting.contact)
        if setting.channel == "group" and ids:
            tree = self.config.tree
            room = next((r for node in tree.lineage(entry.node_code) for r in node.rooms), None)
            if room is not None:
                nickname = next((m for m in room.members if entry.name in m or (
                    entry.address and household_of(m) == entry.address)), entry.name)
                return Reply(Address.room(room.key), wording.prompt_in_group_text(entry, nickname), (ids[0],),
                             priority=3, kind="care_prompt", ref=f"care:{entry.key}")
        return self._private(setting.contact, wording.prompt_text(entry), StepKind.PROMPT, entry)

    async def _open_ticket(self, resident: CareResident, state: Day) -> tuple[Any, list[Reply]]:
        """The urgent ticket, on the node of the grid leader (their group and the community's are work groups:
        no residents' group hears who lives alone), reported on behalf of the resident's responsible person."""
        entry = resident.entry
        tree = self.config.tree
        node = next((n for n in tree.lineage(entry.node_code) if n.people_with("网格长")), tree.node(entry.node_code))
        responsible = self.config.people[entry.responsible]
        ids = self.directory.contact_ids(responsible.key)
        reporter = Reporter(id=ids[0] if ids else responsible.key, name=f"{responsible.name}（报平安）", room_id=None,
                            room_key=None, node=node, message_row_id=None)
        parts = (normalise_address(entry.address) or "").split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            location = Location(parts[0], parts[1], parts[2], None)
        elif len(parts) == 2 and all(p.isdigit() for p in parts):
            location = Location(parts[0], None, parts[1], None)
        else:
            location = Location(place=entry.address or entry.name)
        parse = ParseResult(kind="report", category="assistance", urgency="urgent", location=location,
                            explanation=("报平安无人回复",), confidence=1.0, ticket=True)
        asked = [self._name(p) for p in (*self.plan(resident).first_escalation, *self.plan(resident).second_escalation)]
        prompted = state.steps.get(StepKind.PROMPT.value, self.now)
        text = wording.ticket_text(entry, prompted, self.now, asked=asked, place=self._place(entry),
                                   timezone=self.config.timezone)
        ticket, _, replies = await TicketDesk(self.session, self.config, self.directory, self.now).report(
            reporter, parse, text)
        return ticket, replies

    async def next_due(self) -> datetime | None:
        """When a check-in step is next due (a virtual clock jumps there; the wall clock ticks every minute)."""
        residents = self.checked_in()
        if not residents:
            return None
        today = self.today()
        state = await self._days(residents, [today - timedelta(days=1), today])
        times = []
        for resident in residents:
            tomorrow = self.plan(resident).moment(today + timedelta(days=1), resident.check_in.at)  # type: ignore[union-attr]
            for day in self._open_days(state, resident.entry.key):
                day_state = state[(resident.entry.key, day)]
                step = self._step(resident, day, day_state)
                if step.kind is StepKind.WAIT:
                    times.append(step.due or tomorrow)
                elif step.kind is StepKind.PAUSED or (step.kind is StepKind.ANSWERED
                                                      and StepKind.ANSWERED.value in day_state.steps):
                    times.append(tomorrow)
                else:
                    times.append(min(step.due or self.now, self.now))
        return min(times) if times else None

    async def today_states(self, residents: list[CareResident]) -> dict[str, tuple[Step, dict[str, datetime]]]:
        """For the console: each checked-in resident's step now due today and the steps already done."""
        residents = [r for r in residents if r.check_in is not None]
        if not residents:
            return {}
        today = self.today()
        state = await self._days(residents, [today])
        return {r.entry.key: (self._step(r, today, state[(r.entry.key, today)]), state[(r.entry.key, today)].steps)
                for r in residents}

    async def is_open(self, resident: CareResident) -> bool:
        """Prompted today (or yesterday, still running) and not answered yet."""
        state = await self._days([resident], [self.today() - timedelta(days=1), self.today()])
        return any(StepKind.PROMPT.value in state[(resident.entry.key, d)].steps
                   and StepKind.ANSWERED.value not in state[(resident.entry.key, d)].steps
                   for d in self._open_days(state, resident.entry.key))

    # -- what people say -------------------------------------------------------------------------

    async def sign_of_life(self, resident: CareResident, sender_id: str, kind: str, text: str,
                           answer_to: Address | None) -> list[Reply]:
        """The resident (or proxy) wrote: the day is answered; helpers already asked stand down."""
        await self.repo.add_reply(resident.entry.key, at=self.now, kind=kind, text=text, by_subject=True,
                                  sender_id=sender_id)
        replies = await self.advance([resident])
        if answer_to is not None and not answer_to.is_room:
            replies.insert(0, Reply(answer_to, wording.thanks_text(resident.entry, by_proxy=self.is_proxy(resident)), (), priority=3,
                                    kind="care_thanks", ref=f"care:{resident.entry.key}"))
        return replies

    async def confirm(self, resident: CareResident, sender_id: str, text: str, answer_to: Address) -> list[Reply]:
        """A helper or relative saw the resident and all is well."""
        await self.repo.add_reply(resident.entry.key, at=self.now, kind="text", text=text, by_subject=False,
                                  sender_id=sender_id)
        replies = await self.advance([resident], skip=sender_id)
        return [Reply(answer_to, wording.confirmed_text(resident.entry), (), priority=2, kind="care_confirmed",
                      ref=f"care:{resident.entry.key}"), *replies]

    async def pause(self, resident: CareResident, pause: Pause, sender_id: str, answer_to: Address,
                    *, by_proxy: bool) -> list[Reply]:
        """Keep the pause; the resident's day is answered by the same message."""
        await self.repo.add_pause(resident.entry.key, start=pause.start, end=pause.end, said_on=pause.said_on,
                                  reason=pause.reason, text=pause.text, sender_id=sender_id, at=self.now)
        await self.repo.add_reply(resident.entry.key, at=self.now, kind="text", text=pause.text,
                                  by_subject=not by_proxy, sender_id=sender_id)
        replies = await self.advance([resident], skip=sender_id)
        text = wording.pause_ack_text(resident.entry, pause, by_proxy=by_proxy)
        return [Reply(answer_to, text, (), priority=3, kind="care_pause", ref=f"care:{resident.entry.key}"), *replies]

    # -- visits and the ledger's figures ---------------------------------------------------------

    def visible(self, person: Person | None, node_code: str | None = None) -> list[CareEntry]:
        """The entries this person may read (under `node_code` when given)."""
        if person is None:
            return []
        tree = self.config.tree
        entries = [r.entry for r in self.care.residents
                   if node_code is None or tree.is_within(r.entry.node_code, node_code)]
        return visible_entries(entries, person.key, self.directory.positions(person.key), tree, self.care.duty_roles)

    def has_duty(self, person: Person | None) -> bool:
        return person is not None and (any(role in self.care.duty_roles for _, role in self.directory.positions(
            person.key)) or any(r.entry.responsible == person.key for r in self.care.residents))

    async def record_visit(self, person: Person, draft: VisitDraft, message_id: int | None) -> str:
        """Record a `#走访` / `#电访` against the entries it names that the person may see; the answer to give."""
        if not draft.targets:
            return wording.visit_usage_text()
        resolved = resolve(draft, self.visible(person))
        at = draft.at(self.now)
        for entry in resolved.entries:
            await self.repo.add_visit(entry.key, at=at, kind=draft.kind, by=person.key, note=draft.note,
                                      photo=draft.photo, message_id=message_id, now=self.now)
        lines = []
        if resolved.entries:
            lines.append(wording.visit_ack_text(resolved.entries, draft, at, timezone=self.config.timezone))
        problem = wording.visit_problem_text(resolved)
        if problem:
            lines.append(problem)
        return "\n".join(lines)

    async def ledger_line(self, node_code: str, viewer: Person | None) -> str | None:
        """For a digest: overdue visits and the month's coverage under the node, for a viewer with the right."""
        entries = self.visible(viewer, node_code)
        if not entries:
            return None
        rows = await self.repo.visits([e.key for e in entries])
        visits = [Visit(v.entry_key, v.at, v.kind, v.by, v.note) for v in rows]
        month = self.today()
        line = "🤝 关爱：" + wording.coverage_text(coverage(entries, visits, month, self.config.timezone))
        late = overdue_visits(entries, visits, self.now)
        if late:
            line += "\n" + wording.overdue_text(late[:8], self.now, timezone=self.config.timezone)
        return line

    def may_see(self, person: Person | None, entry: CareEntry) -> bool:
        return person is not None and may_see_entry(entry, person.key, self.directory.positions(person.key),
                                                    self.config.tree, self.care.duty_roles)
