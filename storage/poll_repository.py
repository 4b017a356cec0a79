"""微议事 polls and their votes: one row per household and poll, the latest answer replacing the earlier one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.memo import forget, remember_for_group
from storage.models import PollRow, PollVoteRow
from storage.repositories import MAX_NAME, clean_text
from storage.rows import own
from storage.counters import CounterRepository

OPEN, CLOSED = "open", "closed"
# each group's newest poll: built once (building a select costs more than running it) and read through Core, the
# session's own object taken or made from the row (storage.rows.own; `create` flushes, so a poll opened in this unit
# of work is read too) — the ORM's loading cost more than the statement, on a look-up nearly every message makes
_NEWEST = select(*PollRow.__table__.columns).where(PollRow.id.in_(
    select(func.max(PollRow.id)).where(PollRow.room_key.in_(bindparam("keys", expanding=True)))
    .group_by(PollRow.room_key).scalar_subquery()))


class PollRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **fields: Any) -> PollRow:
        """A new poll with the next poll number."""
        number = await CounterRepository(self.session).next("poll", start=1)
        fields["question"] = clean_text(fields["question"])[0]
        fields["starter_name"] = clean_text(fields["starter_name"])[0][:MAX_NAME]
        row = PollRow(number=number, state=OPEN, **fields)
        self.session.add(row)
        await self.session.flush()
        forget(self.session, "poll")
        return row

    async def open_in(self, room_key: str) -> PollRow | None:
        """The group's open poll (the newest, should a second have been opened)."""
        return await self.session.scalar(select(PollRow).where(PollRow.room_key == room_key, PollRow.state == OPEN)
                                         .order_by(PollRow.id.desc()).limit(1))

    async def latest_in(self, room_key: str) -> PollRow | None:
        """The group's newest poll; asked for every group message of a batch (the vote stage), so read once per
        unit of work, for all the batch's groups together (storage.memo; a poll opened in it is seen: `create`
        forgets)."""
        async def load(room_keys: list[str]) -> dict[str, PollRow]:
            conn = await self.session.connection()
            found = (await conn.execute(_NEWEST, {"keys": room_keys})).mappings().all()
            return {row["room_key"]: own(self.session, PollRow, dict(row)) for row in found}

        return await remember_for_group(self.session, ("poll",), room_key, load, None)

    async def by_number(self, number: int) -> PollRow | None:
        return await self.session.scalar(select(PollRow).where(PollRow.number == number))

    async def due(self, now: datetime) -> list[PollRow]:
        """Open polls whose deadline has come."""
        return list(await self.session.scalars(select(PollRow).where(
            PollRow.state == OPEN, PollRow.closes_at <= now).order_by(PollRow.closes_at)))

    async def next_deadline(self) -> datetime | None:
        return await self.session.scalar(select(func.min(PollRow.closes_at)).where(PollRow.state == OPEN))

    async def vote_of(self, poll: PollRow, voter: str) -> PollVoteRow | None:
        return await self.session.scalar(select(PollVoteRow).where(PollVoteRow.poll_id == poll.id,
                                                                   PollVoteRow.voter == voter))

    async def record_vote(self, poll: PollRow, *, voter: str, member_id: str, member_name: str, option: int,
                          text: str, at: datetime) -> int | None:
        """Store a household's vote; returns the option it had before (None: its first vote)."""
        row = await self.vote_of(poll, voter)
        if row is None:
            self.session.add(PollVoteRow(poll_id=poll.id, voter=voter, member_id=member_id,
                                         member_name=clean_text(member_name)[0][:MAX_NAME], option=option,
                                         text=clean_text(text)[0][:500], at=at))
            await self.session.flush()
            return None
        previous = row.option
        row.option, row.member_id, row.member_name = option, member_id, clean_text(member_name)[0][:MAX_NAME]
        row.text, row.at = clean_text(text)[0][:500], at
        await self.session.flush()
        return previous

    async def votes(self, poll: PollRow) -> list[tuple[str, int, datetime]]:
        """(voter, option, at) of every household that voted."""
        return [tuple(r) for r in (await self.session.execute(select(
            PollVoteRow.voter, PollVoteRow.option, PollVoteRow.at).where(PollVoteRow.poll_id == poll.id)
            .order_by(PollVoteRow.id))).all()]  # type: ignore[misc]
