"""The identity desk: binding codes redeemed (a contact id becomes a configured person) or burnt."""

from __future__ import annotations

from datetime import datetime

from bot.domain.binding import hash_code
from storage.identity_repository import IdentityRepository, Redeemed
from storage.session import Session

__all__ = ["IdentityDesk", "Redeemed"]


class IdentityDesk:
    """Binding codes inside the caller's unit of work."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.repo = IdentityRepository(session)
        self.now = now

    async def burn(self, code: str, contact_id: str) -> None:
        """A code seen in a group: everyone there has read it, so it is void."""
        await self.repo.burn(hash_code(code), contact_id, now=self.now)

    async def redeem(self, code: str, contact_id: str, *, configured_as: str | None) -> Redeemed | str:
        """Bind the contact to the code's person: Redeemed, or why not ("unknown", "used", "expired", …)."""
        return await self.repo.redeem(hash_code(code), contact_id, now=self.now, configured_as=configured_as)
