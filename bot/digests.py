"""The digest desk: gather a node's figures for a period, write the digest, and deliver due ones exactly once.

Exactly once per period, node and recipient comes from the `digest_deliveries` table, written in the
same transaction as the outbox row: a bot that was down at 18:00 sends the missed digest when it comes
back (within `digests.grace`), and a restart never sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


from bot.care import CareDesk
from bot.config import Config
from bot.domain.digest import (
    DigestFigures,
    GroupAcks,
    NodeCount,
    NoticeFigures,
    Period,
    PersonFigures,
    Recipient,
    SatisfactionFigures,
    Schedule,
    TicketFigures,
    TierAcks,
    UrgentTicket,
    due_fires,
    format_digest,
    is_empty,
    recipients,
)
from bot.domain.grid import GridNode, node_path
from bot.domain.people import Directory
from bot.domain.privacy import mask_personal
from bot.domain.satisfaction import Summary, satisfaction_summary, summary_by
from bot.messages import Address, Reply
from storage.digest_repository import DigestRepository
from storage.review_repository import ReviewRepository
from storage.satisfaction_repository import SatisfactionRepository
from storage.outbox_repository import OutboxRepository
from storage.errors import is_conflict
from storage.session import Database, Session
from storage.models import TicketRow

_LOGGER = logging.getLogger(__name__)
DIGEST_PRIORITY = 6


class DigestDesk:
    """Figures and text for one node and period, inside the caller's unit of work."""

    def __init__(self, session: Session, config: Config, now: datetime, *, directory: Directory | None = None,
                 bot_id: str = "") -> None:
        """`directory` and `bot_id` tell staff from residents in notice figures (bot.domain.acks)."""
        self.session = session
        self.config = config
        self.tree = config.tree
        self.now = now
        self.directory = directory or Directory(config.tree, config.people, config.roles)
        self.bot_id = bot_id
        self._room_nodes: dict[str, GridNode] | None = None

    def _prefix(self, node_code: str) -> str | None:
        node = self.tree.node(node_code)
        if node.parent is None and len(self.tree.roots) == 1:
            return None  # the whole deployment: no filter at all
        return node_path(self.tree, node_code)

    def room_nodes(self) -> dict[str, GridNode]:
        if self._room_nodes is None:
            self._room_nodes = {room.key: self.tree.node(room.node_code) for room in self.tree.rooms()}
            for room in self.tree.rooms():  # notices are queued by topic when the id is not known yet
                if room.topic:
                    self._room_nodes.setdefault(room.topic, self.tree.node(room.node_code))
        return self._room_nodes

    async def figures(self, node_code: str, period: Period, *, daily: bool = False) -> DigestFigures:
        node = self.tree.node(node_code)
        repo = DigestRepository(self.session, path_prefix=self._prefix(node_code))
        start, end = period.start, period.end
        flow = await repo.flow(start, end)
        open_count, overdue = await repo.open_now(self.now)
        outcomes = await repo.outcomes(start, end)

        def named(rows: list[tuple[str, int]]) -> tuple[NodeCount, ...]:
            return tuple(NodeCount(code, self.tree.node(code).name if code in self.tree else code, n)
                         for code, n in rows)

        reviews = ReviewRepository(self.session)
        review_prefix = node_path(self.tree, node_code)
        held = await reviews.count_in(review_prefix)
        sample = tuple((i.id, i.sender_name, i.text) for i in await reviews.pending_in(review_prefix, limit=3)) \
            if held else ()
        urgent = tuple(UrgentTicket(number, state, self.tree.node(code).name if code in self.tree else code, text)
                       for number, state, code, text in await repo.urgent(start, end))
        tickets = TicketFigures(
            **flow, open=open_count, overdue=overdue, by_category=await repo.by_category(start, end),
            most_open=named(await repo.open_by_node(self.now, overdue=False)),
            most_overdue=named(await repo.open_by_node(self.now, overdue=True)), urgent=urgent,
            accept_median=await repo.median(TicketRow.accept_seconds, TicketRow.accepted_at, start, end),
            resolve_median=await repo.median(TicketRow.resolve_seconds, TicketRow.resolved_at, start, end),
            held=held, held_sample=sample, **outcomes)
        people = await self._people(repo, start, end)
        tz_offset = period.start.astimezone(self.config.tz).utcoffset()
        days = tuple(await repo.daily(start, end, tz_offset)) if daily and tz_offset is not None else ()
        return DigestFigures(node.code, node.name, period, tickets, await self._notices(repo, node, period),
                             tuple(people), days, await self._satisfaction(node_code, start, end))

    async def _satisfaction(self, node_code: str, start: datetime, end: datetime) -> SatisfactionFigures | None:
        """Reporters' ratings given in the period in this subtree, overall, per handler and per node."""
        rows = await SatisfactionRepository(self.session).answers(start, end, path_prefix=self._prefix(node_code))
        if not rows:
            return None

        def ranked(by: dict[str, Summary], name: Any) -> tuple[tuple[str, int, float | None], ...]:
            return tuple(sorted(((name(k), s.count, s.share_satisfied) for k, s in by.items()),
                                key=lambda r: (-r[1], r[0])))

        people = self.config.people
        return SatisfactionFigures(
            len(rows), satisfaction_summary(s for _, _, s in rows).share_satisfied,
            ranked(summary_by((h, s) for h, _, s in rows if h),
                   lambda k: people[k].name if k in people else k),
            ranked(summary_by((n, s) for _, n, s in rows), lambda c: self.tree.node(c).name if c in self.tree else c))

    async def _people(self, repo: DigestRepository, start: datetime, end: datetime) -> tuple[PersonFigures, ...]:
        """Per person, credit to whoever acted (the name on the ticket's accept / resolve event), not to whoever
        holds the node; a ticket whose timeline names nobody configured is credited to its assignee."""
        by_name: dict[str, str] = {}
        for key, person in self.config.people.items():
            by_name.setdefault(person.name, key)
        counts: dict[str, list[int]] = {}  # key → [accepted, handled, on time, open now]
        for action, actor, assignee, breached in await repo.credits(start, end):
            key = by_name.get(actor or "") or assignee
            if key is None:
                continue
            row = counts.setdefault(key, [0, 0, 0, 0])
            if action == "accept":
                row[0] += 1
            else:
                row[1] += 1
                row[2] += 0 if breached else 1
        for key, (_, _, open_now) in (await repo.people(start, end)).items():
            if open_now:
                counts.setdefault(key, [0, 0, 0, 0])[3] = open_now
        people = []
        for key, (accepted, handled, on_time, open_now) in counts.items():
            person = self.config.people.get(key)
            people.append(PersonFigures(key, person.name if person else key, handled, on_time, open_now, accepted))
        people.sort(key=lambda p: (-p.handled, -p.accepted, -p.open, p.name))
        return tuple(people)

    async def _notices(self, repo: DigestRepository, node: GridNode, period: Period) -> NoticeFigures:
        """Notices posted in the period, counted in this node's subtree exactly as `#回执` counts them
        (NoticeDesk.room_acks → bot.domain.acks.count_room: households of residents, staff left out)."""
        from bot.notices import NoticeDesk

        within = None if node.parent is None and len(self.tree.roots) == 1 else (node.code,)
        desk = NoticeDesk(self.session, self.config, self.directory, self.now, self.bot_id)
        tiers: dict[str, list[int]] = {}
        lowest: dict[str, list[int]] = {}
        sent = 0
        for notice in await repo.notices_posted(period.start, period.end):
            rooms = await desk.room_acks(notice, within)
            sent += 1 if rooms else 0
            for room in rooms:
                totals = tiers.setdefault(room.tier, [0, 0, 0])
                totals[0] += 1
                totals[1] += room.households
                totals[2] += room.acked_households
                if room.households:
                    group = lowest.setdefault(room.room_key, [0, 0])
                    group[0] += room.households
                    group[1] += room.acked_households
        if not sent:
            return NoticeFigures()
        order = {tier: i for i, tier in enumerate(self.tree.tiers)}
        by_tier = tuple(TierAcks(tier, *values) for tier, values in
                        sorted(tiers.items(), key=lambda item: order.get(item[0], len(order))))
        room_nodes = self.room_nodes()
        groups = []
        for room_key, (expected, acked) in lowest.items():
            room_node = room_nodes.get(room_key)
            # a group no longer configured is named, never shown by its raw id
            groups.append(GroupAcks(room_node.name if room_node is not None else self.tree.group_name(room_key),
                                    room_node.code if room_node is not None else "", acked / expected))
        groups.sort(key=lambda g: (g.rate, g.code))
        return NoticeFigures(sent=sent, groups=sum(t.groups for t in by_tier), by_tier=by_tier,
                             lowest=tuple(groups[:5]))

    async def compose(self, node_code: str, period: Period, *, chart_link: str | None = None,
                      daily: bool = False) -> tuple[str, DigestFigures]:
        """The digest text, compared with the period before, and the figures it was written from."""
        current = await self.figures(node_code, period, daily=daily)
        previous = await self.figures(node_code, period.previous())
        text = format_digest(current, previous, self.config.tz, generated_at=self.now, chart_link=chart_link)
        return text, current


@dataclass(frozen=True, slots=True)
class _Pending:
    schedule: Schedule
    fire: datetime
    recipient: Recipient


def chart_path(config: Config) -> Path:
    """A fresh, unguessable file name for a chart (charts are served by name from the web console)."""
    base = Path(config.digests.charts_dir)
    if not base.is_absolute():
        base = config.path.parent / base
    return base / f"{secrets.token_urlsafe(12)}.png"


def chart_url(config: Config, path: Path) -> str:
    return f"{config.web.base_url}/charts/{path.name}"


class DigestSender:
    """The scheduled side: which digests are due, writing them, and recording them with their outbox rows."""

    def __init__(self, db: Database, config: Config, *, draw: bool | None = None, images: bool = False,
                 directory: Directory | None = None, bot_id: Callable[[], str] | str = "") -> None:
        """`images`: the transport can send pictures, so the chart goes as one after the text."""
        self.db = db
        self.directory = directory
        self.bot_id = bot_id
        self.images = images
        self.config = config
        self.draw = config.digests.chart if draw is None else draw
        self.recipients = recipients(config.tree, config.people, secretary_roles=config.digests.secretary_roles,
                                     leader_roles=config.digests.leader_roles, room=config.digests.room)
        self._done: dict[Schedule, datetime] = {}  # fires fully delivered (a hint for idle virtual ticks only)
        self.since: datetime | None = None  # when the deployment first ran: earlier periods are not owed

    async def start(self, now: datetime) -> None:
        self.since = await self.db.run(lambda s: DigestRepository(s).since(now), what="digest start")

    def _due(self, now: datetime) -> list[tuple[Schedule, datetime]]:
        due = due_fires(self.config.digests.schedules, now, self.config.tz, self.config.digests.grace)
        return [(schedule, fire) for schedule, fire in due if self.since is None or fire >= self.since]

    async def next_work(self, now: datetime) -> datetime | None:
        """When there is something to do at the earliest (for the virtual clock)."""
        owed = [fire for schedule, fire in self._due(now) if self._done.get(schedule) != fire]
        upcoming = [schedule.next_fire(now, self.config.tz) for schedule in self.config.digests.schedules]
        return min(owed + upcoming) if owed or upcoming else None

    async def run(self, now: datetime) -> list[Reply]:
        """Queue every due digest not yet recorded; returns what was queued."""
        due = self._due(now)
        if not due or not self.recipients:
            for schedule, fire in due:
                self._done[schedule] = fire
            return []

        async def find(session: Session) -> list[_Pending]:
            pending = []
            for schedule, fire in due:
                period = schedule.period_ending(fire)
                done = await DigestRepository(session).delivered(schedule.kind, period.start)
                pending.extend(_Pending(schedule, fire, r) for r in self.recipients
                               if (r.node_code, r.key) not in done)
            return pending

        pending = await self.db.run(find, what="due digests")
        queued: list[Reply] = []
        charts: dict[tuple[str, str, datetime], Path | None] = {}  # one chart per node and period
        for item in pending:
            queued.extend(await self._deliver(item, now, charts))
        for schedule, fire in due:
            self._done[schedule] = fire
        return queued

    async def _deliver(self, item: _Pending, now: datetime,
                       charts: dict[tuple[str, str, datetime], Path | None]) -> list[Reply]:
        period = item.schedule.period_ending(item.fire)
        weekly_chart = self.draw and item.schedule.kind == "week"
        key = (item.recipient.node_code, item.schedule.kind, period.start)
        drawn = key in charts
        path = charts[key] if drawn else (chart_path(self.config) if weekly_chart else None)

        async def write(session: Session) -> tuple[str, DigestFigures]:
            desk = DigestDesk(session, self.config, now, directory=self.directory,
                              bot_id=self.bot_id() if callable(self.bot_id) else self.bot_id)
            text, figures = await desk.compose(item.recipient.node_code, period, daily=weekly_chart,
                                               chart_link=chart_url(self.config, path) if path else None)
            return await self._with_care(session, text, item.recipient, now), figures

        text, figures = await self.db.run(write, what="writing a digest")
        if self.config.digests.skip_empty and is_empty(figures):
            # nothing happened: recorded as done (so it is not owed again), nothing sent
            async def skip(session: Session) -> None:
                await DigestRepository(session).record(
                    period=item.schedule.kind, period_start=period.start, node_code=item.recipient.node_code,
                    recipient=item.recipient.key, to_kind=item.recipient.to_kind, to_id=item.recipient.to_id,
                    now=now, chart=None)

            try:
                await self.db.run(skip, what="skipping an empty digest")
            except Exception as exc:
                if not is_conflict(exc):
                    raise
                pass
            charts[key] = None
            return []
        if path is not None and not drawn:
            try:
                from bot.chart import render_chart

                await asyncio.to_thread(render_chart, figures, path, self.config.tz)
            except Exception:
                _LOGGER.exception("could not draw the weekly chart for %s; the digest goes out without it",
                                  item.recipient.node_code)
                text = text.replace(f"\n📈 图表：{chart_url(self.config, path)}", "")
                path = None
        charts[key] = path
        recipient = item.recipient
        to = Address(recipient.to_kind, recipient.to_id)
        ref = f"digest:{item.schedule.kind}:{recipient.node_code}"
        replies = [Reply(to, text, priority=DIGEST_PRIORITY, kind="digest", ref=ref)]
        if path is not None and self.images:
            replies.append(Reply(to, f"[图片] {path.name}", priority=DIGEST_PRIORITY, kind="digest_chart", ref=ref,
                                 image=str(path)))

        async def record(session: Session) -> None:
            await DigestRepository(session).record(
                period=item.schedule.kind, period_start=period.start, node_code=recipient.node_code,
                recipient=recipient.key, to_kind=recipient.to_kind, to_id=recipient.to_id, now=now,
                chart=str(path) if path else None)
            await OutboxRepository(session).enqueue(replies, now=now)

        try:
            await self.db.run(record, what="recording a digest")
        except Exception as exc:  # another process recorded it first: it is theirs to send
            if not is_conflict(exc):
                raise
            _LOGGER.info("digest %s %s for %s already recorded elsewhere", item.schedule.kind, period.start,
                         recipient.key)
            return []
        return replies


    async def _with_care(self, session: Session, text: str, recipient: Recipient, now: datetime) -> str:
        """The care line, for a person with a care duty on the digest's node (never for a group)."""
        person = self.config.people.get(recipient.key) if recipient.to_kind == "contact" else None
        if person is None or not self.config.care.residents:
            return text
        directory = self.directory or Directory(self.config.tree, self.config.people, self.config.roles)
        line = await CareDesk(session, self.config, directory, now).ledger_line(recipient.node_code, person)
        if not line:
            return text
        chart = text.rfind("\n📈 ")  # the chart link stays last (it is taken out if drawing fails)
        at = chart if chart >= 0 else len(text)
        return text[:at] + "\n" + mask_personal(line) + text[at:]


async def digest_text(db: Database, config: Config, node_code: str, period: Period, now: datetime,
                      *, chart: Path | None = None) -> tuple[str, Any]:
    """For the command line and chat: the digest of any node and period, optionally with its chart file."""
    async def write(session: Session) -> tuple[str, DigestFigures]:
        return await DigestDesk(session, config, now).compose(node_code, period, daily=chart is not None)

    text, figures = await db.run(write, what="writing a digest")
    if chart is not None:
        from bot.chart import render_chart

        render_chart(figures, chart, config.tz)
    return text, figures
