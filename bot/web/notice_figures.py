"""The figures of notices as an account sees them, for the console's pages, its Excel export and the JSON API.

All of them come from the notice desk, counted as `#回执` counts (NoticeDesk.room_acks → bot.domain.acks):
households of residents, staff left out, each account in its own part of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.acks import Member, NoticeTotals, RoomAcks, TierAcks, household_key, roll_up
from bot.notices import NoticeDesk
from bot.transport.base import cause_for_people
from bot.web.accounts import WebUser
from bot.work import Work, perform
from storage.models import NoticeRow

if TYPE_CHECKING:
    from bot.app import GridBot

STATUS_NAMES = {"sent": "已发出", "pending": "待发送", "sending": "发送中", "failed": "未能发出"}


class NoticeView:
    """One notice as an account sees it: the groups in its view and their figures."""

    def __init__(self, notice: NoticeRow, within: tuple[str, ...] | None, rooms: list[RoomAcks],
                 counts: dict[str, int]) -> None:
        self.notice = notice
        self.within = within
        self.rooms = rooms
        self.totals = NoticeTotals.of(rooms)
        self.delivered = counts.get("sent", 0) if within is None else len(rooms)
        self.groups = notice.room_count if within is None else len(rooms)
        self.failed = counts.get("failed", 0) if within is None else 0

    def progress(self) -> str:
        t = self.totals
        return (f"已送达 {self.delivered}/{self.groups} 群，回执 {t.acked_households}/{t.households} 户"
                f"（{t.acked}/{t.members} 人）" + ("，仅您负责的范围" if self.within is not None else ""))


def view_of(bot: GridBot, user: WebUser, notice: NoticeRow) -> tuple[str, ...] | None:
    """The part of a notice an account follows: all of it (`None`) when its origin is in the account's subtrees,
    else the account's subtrees (a grid leader follows the secretary's notice in their own grid only)."""
    tree = bot.config.tree
    full = set(user.nodes) >= set(tree.roots)
    return None if full or user.can_see(tree, notice.node_code) else tuple(user.nodes)


async def notice_views(bot: GridBot, user: WebUser, *, limit: int = 30, number: int | None = None,
                       since: datetime | None = None, most: int | None = None) -> list[NoticeView]:
    """The notices an account follows, newest first, each with the groups in its view counted as `#回执` counts
    (of the latest `limit`, posted since `since`; at most `most` of them in the account's view)."""

    async def job(work: Work) -> list[NoticeView]:
        desk = work.notices
        if number is None:
            notices = await desk.repo.recent(limit, since=since)
        else:
            found = await desk.repo.by_number(number)
            notices = [found] if found is not None else []
        views = []
        for notice in notices:
            within = view_of(bot, user, notice)
            rooms = await desk.room_acks(notice, within, names=False)
            if within is not None and not rooms:
                continue
            views.append(NoticeView(notice, within, rooms, await desk.repo.delivery_counts(notice.id)))
            if most is not None and len(views) >= most:
                break
        return views

    return await perform(bot.services, job, what="notices")


@dataclass(frozen=True, slots=True)
class HouseholdAcks:
    """One household of a group's audience: its members there, and those of them who replied."""

    room_key: str
    tier: str
    household: str  # the house number, or the member's nickname for a household of one
    members: tuple[str, ...]
    replied: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReminderSent:
    """One reminder pass in one group: when, how many people were @-ed, in how many messages."""

    room_key: str
    at: datetime
    status: str
    mentioned: int
    messages: int


@dataclass(frozen=True, slots=True)
class FailedGroup:
    """A group the notice could not reach, and why (in words for people)."""

    room_key: str
    cause: str
    attempts: int


@dataclass(frozen=True, slots=True)
class NoticeDetail:
    """Everything the detail page and its export show, in the account's view."""

    view: NoticeView
    tiers: list[TierAcks]
    households: list[HouseholdAcks]
    reminders: list[ReminderSent]
    failures: list[FailedGroup]
    names: Mapping[str, str]  # room key → the group as people know it

    def name(self, room_key: str) -> str:
        return self.names.get(room_key, room_key)


def households_of(rooms: Iterable[RoomAcks], members: Mapping[str, list[Member]],
                  staff: Mapping[str, frozenset[str]]) -> list[HouseholdAcks]:
    """Per group, its audience's households in the order first seen, grouped as `count_room` groups them."""
    found: list[HouseholdAcks] = []
    for room in rooms:
        grouped: dict[str, list[Member]] = {}
        for member in members.get(room.room_key, ()):
            if member.member_id not in staff[room.room_key]:
                grouped.setdefault(household_key(member.member_id, member.household), []).append(member)
        for people in grouped.values():
            found.append(HouseholdAcks(room.room_key, room.tier, people[0].household or people[0].name,
                                       tuple(m.name for m in people), tuple(m.name for m in people if m.acked)))
    return found


def reminders_of(rows: Iterable[tuple[str, datetime, datetime | None, str, int]]) -> list[ReminderSent]:
    """Outbox rows of reminders, one per pass and group (a pass @-s at most `mention_chunk` people a message)."""
    passes: dict[tuple[datetime, str], list[tuple[datetime | None, str, int]]] = {}
    for room, queued, sent, status, mentioned in rows:
        passes.setdefault((queued, room), []).append((sent, status, mentioned))
    found = []
    for (queued, room), messages in passes.items():
        statuses = {status for _, status, _ in messages}
        status = "failed" if "failed" in statuses else "sent" if statuses == {"sent"} else "pending"
        sent_at = max((sent for sent, _, _ in messages if sent is not None), default=None)
        found.append(ReminderSent(room, sent_at or queued, status, sum(m for _, _, m in messages), len(messages)))
    return found


async def notice_detail(bot: GridBot, user: WebUser, number: int) -> NoticeDetail | None:
    """One notice in the account's view, or None if it does not exist or never reached the account's part."""

    async def job(work: Work) -> NoticeDetail | None:
        desk: NoticeDesk = work.notices
        notice = await desk.repo.by_number(number)
        if notice is None:
            return None
        within = view_of(bot, user, notice)
        members = await desk.members_in_view(notice, within)
        if within is not None and not members:
            return None
        rooms = desk.count(notice, members)
        staff_of = desk.staff_of(notice)
        view = NoticeView(notice, within, rooms, await desk.repo.delivery_counts(notice.id))
        failures = [FailedGroup(room, cause_for_people(error), attempts)
                    for room, error, attempts in await desk.repo.failed_rooms(notice.id) if desk.in_view(room, within)]
        reminders = [r for r in reminders_of(await desk.repo.reminders(notice.id)) if desk.in_view(r.room_key, within)]
        keys = list(dict.fromkeys([*members, *(f.room_key for f in failures), *(r.room_key for r in reminders)]))
        return NoticeDetail(view, roll_up(rooms, bot.config.tree.tiers),
                            households_of(rooms, members, {key: staff_of(key) for key in members}), reminders,
                            failures, await desk.group_names(keys))

    return await perform(bot.services, job, what="notice detail")
