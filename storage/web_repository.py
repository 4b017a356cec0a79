"""Accounts, sessions, the audit log, and the ticket queries the console, the API and Open311 share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.search import query_terms
from bot.domain.tickets import OPEN_VALUES
from storage import deferred
from storage.models import AuditRow, MessageRow, ReviewRow, TicketRow, TicketTermRow, WebSessionRow, WebUserRow
from storage.review_repository import PENDING
from storage.ticket_repository import in_subtree, overdue_now


class WebRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- accounts and sessions --------------------------------------------------------------------

    async def add_user(self, **fields: Any) -> WebUserRow:
        user = WebUserRow(**fields)
        self.session.add(user)
        await self.session.flush()
        return user

    async def user(self, username: str) -> WebUserRow | None:
        return await self.session.scalar(select(WebUserRow).where(WebUserRow.username == username))

    async def users(self) -> list[WebUserRow]:
        return list(await self.session.scalars(select(WebUserRow).order_by(WebUserRow.username)))

    async def user_by_token(self, token_hash: str) -> WebUserRow | None:
        return await self.session.scalar(select(WebUserRow).where(
            WebUserRow.token_hash == token_hash, WebUserRow.disabled.is_(False)))

    async def set_token_hash(self, username: str, token_hash: str) -> int:
        """Give the account a new API token (its hash); returns how many accounts had that name (0 or 1)."""
        result = await self.session.execute(update(WebUserRow).where(WebUserRow.username == username)
                                            .values(token_hash=token_hash))
        return int(result.rowcount or 0)

    async def start_session(self, *, token_hash: str, user_id: int, csrf: str, now: datetime,
                            expires: datetime) -> None:
        self.session.add(WebSessionRow(token_hash=token_hash, user_id=user_id, csrf=csrf, created_at=now,
                                       expires_at=expires))
        await self.session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))

    async def session_user(self, token_hash: str, now: datetime) -> tuple[WebUserRow, str] | None:
        row = (await self.session.execute(
            select(WebUserRow, WebSessionRow.csrf).join(WebSessionRow, WebSessionRow.user_id == WebUserRow.id)
            .where(WebSessionRow.token_hash == token_hash, WebSessionRow.expires_at > now,
                   WebUserRow.disabled.is_(False)))).first()
        return (row[0], row[1]) if row is not None else None

    async def end_session(self, token_hash: str) -> None:
        await self.session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    async def set_flash(self, token_hash: str, text: str, *, until: datetime) -> None:
        """What the session's next page shows once, until `until`."""
        await self.session.execute(update(WebSessionRow).where(WebSessionRow.token_hash == token_hash)
                                   .values(flash=text[:2000], flash_until=until))

    async def take_flash(self, token_hash: str, now: datetime) -> str | None:
        """The session's flash if it has not expired; it is gone afterwards either way."""
        row = await self.session.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash,
                                                                    WebSessionRow.flash.is_not(None)))
        if row is None:
            return None
        text, until = row.flash, row.flash_until
        row.flash, row.flash_until = None, None
        await self.session.flush()
        return text if until is not None and until > now else None

    async def audit(self, *, at: datetime, username: str, action: str, target: str | None = None,
                    detail: str | None = None, allowed: bool = True, outcome: str | None = None) -> None:
        """One line of the audit log; `outcome` (allowed / refused / failed) defaults to what `allowed` says."""
        outcome = outcome or ("allowed" if allowed else "refused")
        self.session.add(AuditRow(at=at, username=username[:100], action=action[:50],
                                  target=(target or "")[:200] or None, detail=(detail or "")[:2000] or None,
                                  allowed=outcome == "allowed", outcome=outcome))

    async def audit_log(self, limit: int = 100) -> list[AuditRow]:
        return list(await self.session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)))

    # -- tickets for people at desks --------------------------------------------------------------

    async def tickets(self, *, prefixes: Sequence[str] | None, state: str | None = None,
                      category: str | None = None, urgency: str | None = None, node_prefix: str | None = None,
                      overdue_at: datetime | None = None, text: str | None = None, start: datetime | None = None,
                      end: datetime | None = None, number: int | None = None, limit: int = 50,
                      offset: int = 0) -> list[TicketRow]:
        """Newest first, within the account's subtrees, filtered; one more than `limit` tells there is a next page."""
        query = select(TicketRow)
        if prefixes is not None:
            query = query.where(or_(*(in_subtree(p) for p in prefixes)))
        if state == "open":
            query = query.where(TicketRow.state.in_(OPEN_VALUES))
        elif state:
            query = query.where(TicketRow.state == state)
        if category:
            query = query.where(TicketRow.category == category)
        if urgency:
            query = query.where(TicketRow.urgency == urgency)
        if node_prefix:
            query = query.where(in_subtree(node_prefix))
        if overdue_at is not None:
            query = query.where(TicketRow.state.in_(OPEN_VALUES), overdue_now(overdue_at))
        if text:
            query = query.where(TicketRow.text.contains(text, autoescape=True))
            await deferred.flush(self.session)  # this unit of work's new tickets' terms (storage.deferred)
            rare = await self._rarest_term(text)
            if rare is not None:  # a rare word: start from the few tickets that have it, not from the newest
                query = query.where(TicketRow.id.in_(select(TicketTermRow.ticket_id).where(TicketTermRow.term == rare)))
        if start is not None:
            query = query.where(TicketRow.created_at >= start)
        if end is not None:
            query = query.where(TicketRow.created_at < end)
        if number is not None:
            query = query.where(TicketRow.number == number)
        return list(await self.session.scalars(
            query.order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).offset(offset).limit(limit)))

    async def _rarest_term(self, text: str, *, rare: int = 20_000) -> str | None:
        """The query's least frequent term if it is rare enough to start from; None: newest-first is quicker."""
        best: tuple[int, str] | None = None
        for term in query_terms(text):
            sample = select(TicketTermRow.ticket_id).where(TicketTermRow.term == term).limit(rare + 1).subquery()
            n = int(await self.session.scalar(select(func.count()).select_from(sample)) or 0)
            if best is None or n < best[0]:
                best = (n, term)
        return best[1] if best is not None and best[0] <= rare else None

    async def node_counts(self, prefixes: Sequence[str] | None, now: datetime) -> dict[str, tuple[int, int]]:
        """Per node: (open, overdue)."""
        query = select(TicketRow.node_code, func.count(),
                       func.coalesce(func.sum(case((overdue_now(now), 1), else_=0)), 0)) \
            .where(TicketRow.state.in_(OPEN_VALUES)).group_by(TicketRow.node_code)
        if prefixes is not None:
            query = query.where(or_(*(in_subtree(p) for p in prefixes)))
        return {code: (int(n), int(late)) for code, n, late in (await self.session.execute(query)).all()}

    async def messages_of(self, ticket_id: int) -> list[MessageRow]:
        return list(await self.session.scalars(select(MessageRow).where(MessageRow.ticket_id == ticket_id)
                                               .order_by(MessageRow.id)))

    # -- the console's overview (issue 18, fix/ov) ----------------------------------------------------

    async def open_counts(self, prefixes: Sequence[str] | None, now: datetime) -> tuple[int, int, int]:
        """Open tickets in the account's subtrees now: (open, urgent, overdue)."""
        query = select(func.count(), func.coalesce(func.sum(case((TicketRow.urgency == "urgent", 1), else_=0)), 0),
                       func.coalesce(func.sum(case((overdue_now(now), 1), else_=0)), 0)) \
            .where(TicketRow.state.in_(OPEN_VALUES))
        if prefixes is not None:
            query = query.where(or_(*(in_subtree(p) for p in prefixes)))
        n, urgent, late = (await self.session.execute(query)).one()
        return int(n or 0), int(urgent or 0), int(late or 0)

    async def daily_flow(self, prefixes: Sequence[str] | None, days: Sequence[tuple[datetime, datetime]]
                         ) -> list[tuple[int, int]]:
        """Per [start, end) of `days` (local days, in order): tickets created and tickets resolved in it, in the
        account's subtrees. Two grouped queries, whatever the number of days."""
        if not days:
            return []
        counts = {column: [0] * len(days) for column in ("created_at", "resolved_at")}
        for name in counts:
            column = getattr(TicketRow, name)
            bucket = case(*((and_(column >= start, column < end), i) for i, (start, end) in enumerate(days)),
                          else_=-1).label("bucket")
            inner = select(bucket).where(column >= days[0][0], column < days[-1][1])
            if prefixes is not None:
                inner = inner.where(or_(*(in_subtree(p) for p in prefixes)))
            sub = inner.subquery()  # grouped outside: PostgreSQL does not match a CASE with bound values to itself
            for i, n in (await self.session.execute(select(sub.c.bucket, func.count()).group_by(sub.c.bucket))).all():
                if 0 <= int(i) < len(days):
                    counts[name][int(i)] = int(n)
        return list(zip(counts["created_at"], counts["resolved_at"]))

    async def review_queue(self, prefixes: Sequence[str] | None, *, limit: int = 3) -> tuple[int, list[ReviewRow]]:
        """Pending 待确认 items in the account's subtrees: how many, and the latest `limit` of them."""
        where = [ReviewRow.state == PENDING]
        if prefixes is not None:
            where.append(or_(*(in_subtree(p, ReviewRow.node_path) for p in prefixes)))
        count = int(await self.session.scalar(select(func.count()).select_from(ReviewRow).where(*where)) or 0)
        latest = list(await self.session.scalars(select(ReviewRow).where(*where).order_by(ReviewRow.id.desc())
                                                 .limit(limit))) if count else []
        return count, latest
