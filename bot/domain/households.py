"""The household registry: who lives where, how each household is reached, and who is in no group at all (pure).

一户一代表: notices count households, not people, and a household is reached when anyone speaking for it is in a
group — a member, the grown child in another city or the neighbour who passes things on to a parent without a
smartphone (a `Proxy`), or a tenant living there on the day. The registry comes from the community's own
spreadsheet (bot/households_import.py); addresses are compared by key (bot/domain/addresses.py).

API (dates are passed in; nothing reads the clock):

- `Household.at(node_code, address, members=..., tenants=..., representative=...)` builds one; `household.key`
  is its normalized address ("3-2-201"), `household.ref` ("JQS-01-03/3-2-201") is unique in a registry and is
  what households are counted under.
- `HouseholdRegistry(households, tree=None)`: with the tree, a group's members are matched to the households of
  its node, its ancestors and its descendants; without it, to those of the same node.
- `Membership(room_key, member_id, nickname, node_code=None)`: one active member of a group, as the transport
  lists it, with the group's node when known.
- `match_member(nickname, registry, node_code=, room_key=, on=)` → Household | None: a nickname registered
  for a member, proxy or (current on `on`) tenant first, then the address the nickname starts with ("3-201 王芳"
  finds 3-2-201 when no other 3-x-201 is in scope; a bare "201" only inside the group's node). Ambiguous → None.
  A nickname registered for a tenant who has moved out finds nothing: that person no longer speaks for it.
- `reachable(household, memberships, on, registry=None)`, `unreached(registry, memberships, on)`: the
  leader's "无人在群" list, households nobody in any group speaks for.
- `audience_households(room_members, registry, staff=, on=)`: household ref → member ids of one group, staff
  left out; `with_households(members, registry, ...)` gives acks.Member rows their registry household so that
  `acks.count_room` counts by the registry unchanged. Members the registry does not know keep the nickname's
  household (`household_of`), or count as a household of their own, as acks.py does.
- `household.spokesperson(on)`: the representative, else the head, else a current tenant;
  `with_representative(household, name)` names another one.

Phone numbers are never in a repr; `shown_phone` masks them (bot/domain/privacy.py) for whoever displays them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

from bot.domain.acks import Member, household_key
from bot.domain.addresses import Address, compatible, nickname_address, parse_address
from bot.domain.grid import GridTree
from bot.domain.people import household_of
from bot.domain.privacy import mask_optional

HEAD = "户主"


class HouseholdError(ValueError):
    """Households that cannot be built or registered as given."""


def _nick(text: str | None) -> str:
    """Nicknames compared as people see them: width and spaces do not matter."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


@dataclass(frozen=True, slots=True)
class Proxy:
    """Someone who passes messages on to a member who is in no group: a grown child, a neighbour."""

    name: str
    relation: str = ""  # to the member: 儿子, 女儿, 邻居
    phone: str | None = field(default=None, repr=False)
    nickname: str | None = None  # their group nickname, when they are in a group
    group: str | None = None  # the room key they are in; None: any group
    where: str = ""  # "在杭州工作"

    @property
    def shown_phone(self) -> str | None:
        return mask_optional(self.phone)


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """One person of a household, with their relation to the head and how they are reached."""

    name: str
    relation: str = HEAD
    phone: str | None = field(default=None, repr=False)
    nickname: str | None = None
    group: str | None = None
    proxy: Proxy | None = None

    @property
    def shown_phone(self) -> str | None:
        return mask_optional(self.phone)


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant of the household, living there from `moved_in` until the day before `moved_out`."""

    name: str
    phone: str | None = field(default=None, repr=False)
    nickname: str | None = None
    group: str | None = None
    moved_in: date | None = None
    moved_out: date | None = None

    def current(self, on: date) -> bool:
        """True when the tenant lives there on `on` (the move-out day is the first day they no longer do)."""
        return (self.moved_in is None or self.moved_in <= on) and (self.moved_out is None or on < self.moved_out)

    @property
    def shown_phone(self) -> str | None:
        return mask_optional(self.phone)


_Speaker = HouseholdMember | Proxy | Tenant


@dataclass(frozen=True, slots=True)
class Household:
    """One household at one address of a node: its members, tenants and representative (一户一代表)."""

    node_code: str
    address: str  # as the community writes it
    parts: Address
    members: tuple[HouseholdMember, ...] = ()
    tenants: tuple[Tenant, ...] = ()
    representative: str | None = None  # the name of a member or tenant
    rented: bool = False

    @classmethod
    def at(cls, node_code: str, address: str, *, members: Iterable[HouseholdMember] = (),
           tenants: Iterable[Tenant] = (), representative: str | None = None, rented: bool = False,
           parts: Address | None = None) -> "Household":
        """A household at `address`; HouseholdError when it names no household or the representative is unknown."""
        parts = parts or parse_address(address)
        if parts is None:
            raise HouseholdError(f"地址“{address}”看不出是哪一户")
        household = cls(node_code, address, parts, tuple(members), tuple(tenants), representative or None,
                        rented or bool(tenants))
        if household.representative and household.representative not in {p.name for p in household.people()}:
            raise HouseholdError(f"{address} 的代表 {household.representative} 不是这一户的人")
        return household

    @property
    def key(self) -> str:
        return self.parts.key

    @property
    def ref(self) -> str:
        """Unique in a registry: the node and the key ("JQS-01-03/3-2-201")."""
        return f"{self.node_code}/{self.key}"

    def people(self, on: date | None = None) -> list[HouseholdMember | Tenant]:
        """Members, then tenants (only those current on `on` when it is given)."""
        return [*self.members, *(t for t in self.tenants if on is None or t.current(on))]

    def current_tenants(self, on: date) -> tuple[Tenant, ...]:
        return tuple(t for t in self.tenants if t.current(on))

    def head(self) -> HouseholdMember | None:
        return next((m for m in self.members if m.relation == HEAD), self.members[0] if self.members else None)

    def spokesperson(self, on: date) -> HouseholdMember | Tenant | None:
        """Who speaks for the household on `on`: its representative, else the head, else a current tenant."""
        people = self.people(on)
        chosen = next((p for p in people if p.name == self.representative), None)
        return chosen or self.head() or next(iter(self.current_tenants(on)), None)


class Membership(NamedTuple):
    """One active member of a group: its key, the member's contact id and nickname, the group's node if known."""

    room_key: str
    member_id: str
    nickname: str
    node_code: str | None = None


class HouseholdRegistry:
    """The households of a deployment, indexed by room number and registered nickname."""

    def __init__(self, households: Iterable[Household], tree: GridTree | None = None) -> None:
        self.tree = tree
        self._households: dict[str, Household] = {}
        # by room, and by room with building or place: a nickname naming its building looks at a handful only
        self._by_room: dict[tuple[str | None, str | None], list[Household]] = {}
        self._by_nickname: dict[str, list[tuple[Household, _Speaker]]] = {}
        for household in households:
            if household.ref in self._households:
                raise HouseholdError(f"{household.ref} 登记了两次")
            self._households[household.ref] = household
            parts = household.parts
            self._by_room.setdefault((parts.room, None), []).append(household)
            # "" collects the households known by room alone (registered under a building's node)
            self._by_room.setdefault((parts.room, parts.building or parts.place or ""), []).append(household)
            for person in _reached_through(household):
                if person.nickname:
                    self._by_nickname.setdefault(_nick(person.nickname), []).append((household, person))

    def __iter__(self) -> Iterator[Household]:
        return iter(self._households.values())

    def __len__(self) -> int:
        return len(self._households)

    def get(self, ref: str) -> Household | None:
        """The household with this ref ("JQS-01-03/3-2-201")."""
        return self._households.get(ref)

    def _candidates(self, said: Address) -> list[Household]:
        """Households a nickname's address may be: same room and, when it names one, same building or place
        (or none known: a household registered by room alone under its building's node)."""
        if said.building is None and said.place is None:
            return self._by_room.get((said.room, None), [])
        named = self._by_room.get((said.room, said.building or said.place), [])
        unplaced = self._by_room.get((said.room, ""), [])
        return named + unplaced if unplaced else named

    def in_scope(self, household: Household, node_code: str | None) -> bool:
        """True when a group of `node_code` may hold this household: its node, an ancestor or a descendant."""
        if node_code is None or node_code == household.node_code:
            return True
        tree = self.tree
        if tree is None or node_code not in tree or household.node_code not in tree:
            return False
        return tree.is_within(node_code, household.node_code) or tree.is_within(household.node_code, node_code)


def _reached_through(household: Household) -> Iterator[_Speaker]:
    for member in household.members:
        yield member
        if member.proxy is not None:
            yield member.proxy
    yield from household.tenants


def _unique(found: Iterable[Household]) -> Household | None:
    refs = {h.ref: h for h in found}
    return next(iter(refs.values())) if len(refs) == 1 else None


def match_member(nickname: str, registry: HouseholdRegistry, *, node_code: str | None = None,
                 room_key: str | None = None, on: date | None = None) -> Household | None:
    """The household a group member speaks for, from their nickname (rules in the module docstring)."""
    registered = [(h, p) for h, p in registry._by_nickname.get(_nick(nickname), ())
                  if registry.in_scope(h, node_code) and (p.group is None or room_key is None or p.group == room_key)]
    if registered:
        current = [h for h, p in registered if not isinstance(p, Tenant) or on is None or p.current(on)]
        # a moved-out tenant whose old nickname still carries the address speaks for nobody
        return _unique(current)
    said = nickname_address(nickname)
    if said is None:
        return None
    candidates = [h for h in registry._candidates(said) if registry.in_scope(h, node_code)]
    exact = [h for h in candidates if h.key == said.key]
    if len(exact) == 1:
        return exact[0]
    if not said.specific and node_code is None:
        return None  # "201" means something only inside one group's node
    return _unique(h for h in candidates if compatible(said, h.parts))


def _resolve(membership: Membership, registry: HouseholdRegistry, on: date | None) -> Household | None:
    return match_member(membership.nickname, registry, node_code=membership.node_code,
                        room_key=membership.room_key, on=on)


def reachable(household: Household, memberships: Iterable[Membership], on: date, *,
              registry: HouseholdRegistry | None = None) -> bool:
    """True when someone in a group speaks for the household on `on`.

    Matched against `registry` when given (the same answer as `unreached`); else against this household alone,
    so a "3-201" nickname reaches 3-2-201 even if 3-1-201 exists elsewhere."""
    registry = registry if registry is not None else HouseholdRegistry([household])
    return any((found := _resolve(m, registry, on)) is not None and found.ref == household.ref
               for m in memberships)


def unreached(registry: HouseholdRegistry, memberships: Iterable[Membership], on: date) -> list[Household]:
    """Households nobody in any group speaks for on `on` (无人在群), in registry order."""
    reached = {found.ref for m in memberships if (found := _resolve(m, registry, on)) is not None}
    return [h for h in registry if h.ref not in reached]


def _counted_under(membership: Membership, registry: HouseholdRegistry, on: date | None) -> str:
    found = _resolve(membership, registry, on)
    if found is not None:
        return found.ref
    return household_key(membership.member_id, household_of(membership.nickname))


def audience_households(room_members: Iterable[Membership], registry: HouseholdRegistry, *,
                        staff: Collection[str] = (), on: date | None = None) -> dict[str, tuple[str, ...]]:
    """Household → audience member ids of one group (staff ids left out, as `acks.count_room` does)."""
    found: dict[str, list[str]] = {}
    for membership in room_members:
        if membership.member_id in staff:
            continue
        found.setdefault(_counted_under(membership, registry, on), []).append(membership.member_id)
    return {key: tuple(ids) for key, ids in found.items()}


def with_households(members: Sequence[Member], registry: HouseholdRegistry, *, room_key: str,
                    node_code: str | None = None, on: date | None = None) -> list[Member]:
    """acks.Member rows of one group, each under its registry household when the registry knows it."""
    rekeyed = []
    for member in members:
        found = match_member(member.name, registry, node_code=node_code, room_key=room_key, on=on)
        rekeyed.append(member._replace(household=found.ref) if found is not None else member)
    return rekeyed


def with_representative(household: Household, name: str | None) -> Household:
    """The household with another representative (None: none named)."""
    if name and name not in {p.name for p in household.people()}:
        raise HouseholdError(f"{household.address} 的代表 {name} 不是这一户的人")
    return replace(household, representative=name or None)
