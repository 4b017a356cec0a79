"""The household registry in the database: replace a node's households from an import, load them back, count.

Rows hold what the spreadsheet says (phones as given: whoever shows them masks them); `load` turns them back
into `bot.domain.households.Household`s, in the order they were imported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.households import Household, HouseholdMember, Proxy, Tenant
from storage.models import HouseholdPersonRow, HouseholdRow, MemberRow

_CHUNK = 500  # node codes or ids per IN (…)


@dataclass(frozen=True, slots=True)
class Replaced:
    """What replacing a node's households did."""

    removed: int
    stored: int
    people: int


def _chunks(values: Sequence[object]) -> Iterable[list[object]]:
    items = list(values)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _person_rows(household: Household) -> list[HouseholdPersonRow]:
    rows: list[HouseholdPersonRow] = []
    for member in household.members:
        at = len(rows)
        rows.append(HouseholdPersonRow(position=at, name=member.name, relation=member.relation, phone=member.phone,
                                       nickname=member.nickname, room_key=member.group, is_tenant=False,
                                       is_proxy=False, whereabouts=""))
        proxy = member.proxy
        if proxy is not None:
            rows.append(HouseholdPersonRow(position=len(rows), name=proxy.name, relation=proxy.relation,
                                           phone=proxy.phone, nickname=proxy.nickname, room_key=proxy.group,
                                           is_tenant=False, is_proxy=True, proxy_for=at, whereabouts=proxy.where))
    for tenant in household.tenants:
        rows.append(HouseholdPersonRow(position=len(rows), name=tenant.name, relation="租客", phone=tenant.phone,
                                       nickname=tenant.nickname, room_key=tenant.group, is_tenant=True,
                                       is_proxy=False, whereabouts="", moved_in=tenant.moved_in,
                                       moved_out=tenant.moved_out))
    return rows


def _household(row: HouseholdRow, people: Sequence[HouseholdPersonRow]) -> Household:
    proxies = {p.proxy_for: Proxy(p.name, p.relation, p.phone, p.nickname, p.room_key, p.whereabouts)
               for p in people if p.is_proxy}
    members = [HouseholdMember(p.name, p.relation, p.phone, p.nickname, p.room_key, proxies.get(p.position))
               for p in people if not p.is_proxy and not p.is_tenant]
    tenants = [Tenant(p.name, p.phone, p.nickname, p.room_key, p.moved_in, p.moved_out)
               for p in people if p.is_tenant]
    return Household.at(row.node_code, row.address, members=members, tenants=tenants,
                        representative=row.representative, rented=row.rented)


class HouseholdRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_node(self, node_code: str, households: Sequence[Household], *, now: datetime,
                           source: str | None = None) -> Replaced:
        """The node's households become these (all or nothing: the caller's transaction)."""
        ids = list(await self.session.scalars(select(HouseholdRow.id).where(HouseholdRow.node_code == node_code)))
        for chunk in _chunks(ids):  # explicit, not only ON DELETE CASCADE: the same on every backend
            await self.session.execute(delete(HouseholdPersonRow).where(HouseholdPersonRow.household_id.in_(chunk)))
            await self.session.execute(delete(HouseholdRow).where(HouseholdRow.id.in_(chunk)))
        people = 0
        for household in households:
            row = HouseholdRow(node_code=node_code, key=household.key, ref=household.ref, address=household.address,
                               representative=household.representative, rented=household.rented,
                               imported_at=now, source=source)
            self.session.add(row)
            await self.session.flush()
            persons = _person_rows(household)
            for person in persons:
                person.household_id = row.id
            self.session.add_all(persons)
            people += len(persons)
        await self.session.flush()
        return Replaced(len(ids), len(households), people)

    async def nodes(self) -> set[str]:
        """The node codes that have registered households."""
        return set(await self.session.scalars(select(HouseholdRow.node_code).distinct()))

    async def load(self, node_codes: Collection[str]) -> list[Household]:
        """The households registered at these nodes, in import order."""
        rows: list[HouseholdRow] = []
        for chunk in _chunks(sorted(node_codes)):
            rows.extend(await self.session.scalars(select(HouseholdRow).where(HouseholdRow.node_code.in_(chunk))))
        rows.sort(key=lambda r: r.id)
        people: dict[int, list[HouseholdPersonRow]] = {}
        for chunk in _chunks([r.id for r in rows]):
            found = await self.session.scalars(select(HouseholdPersonRow).where(
                HouseholdPersonRow.household_id.in_(chunk)).order_by(HouseholdPersonRow.position))
            for person in found:
                people.setdefault(person.household_id, []).append(person)
        return [_household(row, people.get(row.id, ())) for row in rows]

    async def counts(self, node_codes: Collection[str] | None = None) -> dict[str, int]:
        """Node code → registered households (every node with any when `node_codes` is None)."""
        query = select(HouseholdRow.node_code, func.count()).group_by(HouseholdRow.node_code)
        if node_codes is None:
            return {code: n for code, n in (await self.session.execute(query)).tuples()}
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(node_codes)):
            found.update({code: n for code, n in (await self.session.execute(
                query.where(HouseholdRow.node_code.in_(chunk)))).tuples()})
        return found

    async def memberships(self, room_keys: Collection[str]) -> list[tuple[str, str, str]]:
        """(room key, member id, nickname) of the active members of these groups."""
        found: list[tuple[str, str, str]] = []
        for chunk in _chunks(sorted(room_keys)):
            result = await self.session.execute(
                select(MemberRow.room_key, MemberRow.member_id, MemberRow.display_name)
                .where(MemberRow.active.is_(True), MemberRow.room_key.in_(chunk)).order_by(MemberRow.id))
            found.extend(result.tuples())
        return found
