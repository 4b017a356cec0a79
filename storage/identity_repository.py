"""Binding codes and the contact ids bound to people; every change goes to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditRow, BindingCodeRow, BindingRow


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A code that was good: whom it bound, and the binding it replaced (if any)."""

    person_key: str
    contact_id: str
    replaced: tuple[str, ...] = ()


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _audit(self, at: datetime, actor: str, action: str, person_key: str, detail: str | None = None,
               allowed: bool = True) -> None:
        self.session.add(AuditRow(at=at, username=actor[:100], action=action, target=person_key[:200],
                                  detail=(detail or "")[:2000] or None, allowed=allowed))

    async def issue_code(self, person_key: str, code_hash: str, *, now: datetime, expires: datetime,
                         actor: str) -> None:
        """A new code for the person; codes issued before and not used stop working."""
        await self.session.execute(update(BindingCodeRow).where(
            BindingCodeRow.person_key == person_key, BindingCodeRow.used_at.is_(None),
            BindingCodeRow.revoked_at.is_(None)).values(revoked_at=now))
        self.session.add(BindingCodeRow(person_key=person_key, code_hash=code_hash, created_at=now,
                                        expires_at=expires))
        self._audit(now, actor, "identity.code", person_key, f"expires {expires.isoformat()}")
        await self.session.flush()

    async def redeem(self, code_hash: str, contact_id: str, *, now: datetime,
                     configured_as: str | None = None) -> Redeemed | str:
        """Bind `contact_id` to the code's person if the code is unused, unrevoked and unexpired.

        `configured_as`: the person config already gives this contact id, if any — a code for someone else
        is then burnt, never honoured. Returns what was bound, or why nothing was ("unknown", "used",
        "revoked", "expired", "configured")."""
        code = await self.session.scalar(select(BindingCodeRow).where(BindingCodeRow.code_hash == code_hash)
                                         .with_for_update())
        why = None
        if code is None:
            why = "unknown"
        elif code.used_at is not None:
            why = "used"
        elif code.revoked_at is not None:
            why = "revoked"
        elif code.expires_at <= now:
            why = "expired"
        elif configured_as is not None and configured_as != code.person_key:
            why = "configured"
            code.revoked_at = now
        if why is not None:
            self._audit(now, f"wechat:{contact_id}", "identity.bind", code.person_key if code else "?",
                        f"refused: {why}" + (f" (config says {configured_as})" if why == "configured" else ""),
                        allowed=False)
            await self.session.flush()
            return why
        assert code is not None
        code.used_at, code.used_by = now, contact_id
        replaced: list[str] = []
        if configured_as is None:
            replaced = await self._revoke(now, "rebound", person_key=code.person_key)
            replaced += await self._revoke(now, "rebound", contact_id=contact_id)
            self.session.add(BindingRow(person_key=code.person_key, contact_id=contact_id, code_id=code.id,
                                        created_at=now))
        self._audit(now, f"wechat:{contact_id}", "identity.bind", code.person_key,
                    f"bound {contact_id}" + (f", replacing {', '.join(replaced)}" if replaced else "")
                    + (" (already config's wechat_id)" if configured_as else ""))
        await self.session.flush()
        return Redeemed(code.person_key, contact_id, tuple(replaced))

    async def burn(self, code_hash: str, contact_id: str, *, now: datetime) -> str | None:
        """Revoke an unused code that was shown where others can read it (a group); its person's key, or None."""
        code = await self.session.scalar(select(BindingCodeRow).where(
            BindingCodeRow.code_hash == code_hash, BindingCodeRow.used_at.is_(None),
            BindingCodeRow.revoked_at.is_(None)))
        if code is None:
            return None
        code.revoked_at = now
        self._audit(now, f"wechat:{contact_id}", "identity.bind", code.person_key,
                    "refused: sent in a group; code revoked", allowed=False)
        await self.session.flush()
        return code.person_key

    async def _revoke(self, now: datetime, by: str, *, person_key: str | None = None,
                      contact_id: str | None = None) -> list[str]:
        query = select(BindingRow).where(BindingRow.revoked_at.is_(None))
        if person_key is not None:
            query = query.where(BindingRow.person_key == person_key)
        if contact_id is not None:
            query = query.where(BindingRow.contact_id == contact_id)
        rows = list(await self.session.scalars(query))
        for row in rows:
            row.revoked_at, row.revoked_by = now, by[:100]
        return [f"{row.person_key}:{row.contact_id}" for row in rows]

    async def unbind(self, person_key: str, *, now: datetime, actor: str) -> tuple[int, int]:
        """Revoke the person's bindings and unused codes: (bindings revoked, codes revoked)."""
        revoked = await self._revoke(now, actor, person_key=person_key)
        codes = await self.session.execute(update(BindingCodeRow).where(
            BindingCodeRow.person_key == person_key, BindingCodeRow.used_at.is_(None),
            BindingCodeRow.revoked_at.is_(None)).values(revoked_at=now))
        code_count = int(codes.rowcount or 0)
        self._audit(now, actor, "identity.unbind", person_key,
                    f"revoked {', '.join(revoked) or 'no binding'}; {code_count} unused code(s)")
        return len(revoked), code_count

    async def bindings(self) -> dict[str, str]:
        """Contact id → person key, for every binding in force."""
        rows = await self.session.execute(select(BindingRow.contact_id, BindingRow.person_key).where(
            BindingRow.revoked_at.is_(None)).order_by(BindingRow.id))
        return {contact: key for contact, key in rows.all()}

    async def active(self) -> list[BindingRow]:
        return list(await self.session.scalars(select(BindingRow).where(BindingRow.revoked_at.is_(None))
                                               .order_by(BindingRow.person_key)))
