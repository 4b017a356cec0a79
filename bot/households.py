"""The household desk: store an import, load the registry for a part of the tree, and the leader's 无人在群 list.

Like the other desks it works in the caller's unit of work and returns replies. The notice desk counts households
from the registry through `registry_for` (bot/notices.py); `gridbot households` (bot/cli/households.py) stores and
lists through this desk.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

from bot.config import Config
from bot.domain.grid import GridNode, GridTree, Person
from bot.domain.households import (
    Household, HouseholdRegistry, Membership, Tenant, match_member, unreached,
)
from bot.domain import households_wording as wording
from bot.domain.people import Directory
from bot.messages import Address, Reply
from storage.household_repository import HouseholdRepository, Replaced
from storage.session import Session

_LOGGER = logging.getLogger(__name__)


def reach_scope(tree: GridTree, node_codes: Iterable[str]) -> set[str]:
    """The nodes whose households a group of these nodes may hold: their subtrees and their ancestors."""
    codes: set[str] = set()
    known = sorted({c for c in node_codes if c in tree}, key=lambda c: tree.node(c).depth)
    for code in known:
        if code not in codes:  # a subtree already added holds this one's
            codes.update(tree.descendant_codes(code))
        codes.update(n.code for n in tree.lineage(code))
    return codes


async def registry_for(session: Session, tree: GridTree, node_codes: Iterable[str]) -> HouseholdRegistry | None:
    """The registry of the households groups of these nodes may hold; None when none are registered there."""
    repo = HouseholdRepository(session)
    registered = await repo.nodes()
    wanted = registered & reach_scope(tree, node_codes) if registered else set()
    return HouseholdRegistry(await repo.load(wanted), tree) if wanted else None


def people_count(households: Iterable[Household]) -> int:
    """Members, their proxies and tenants: the rows an import stores."""
    return sum(len(h.members) + len(h.tenants) + sum(1 for m in h.members if m.proxy is not None)
               for h in households)


def _nick(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


class HouseholdDesk:
    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime) -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = HouseholdRepository(session)
        self.tree = config.tree

    @property
    def today(self) -> date:
        """Tenancies are by local day."""
        return self.now.astimezone(self.config.tz).date()

    async def store(self, node_code: str, households: Sequence[Household], *, source: str | None = None) -> Replaced:
        """The node's registered households become these, an import's (the node's previous import is replaced)."""
        replaced = await self.repo.replace_node(node_code, households, now=self.now, source=source)
        _LOGGER.info("households of %s: %d stored, %d replaced", node_code, replaced.stored, replaced.removed)
        return replaced

    async def memberships(self, node_codes: Collection[str]) -> list[Membership]:
        """Active members of the configured groups that may hold these nodes' households."""
        room_nodes = {room.key: code for code in reach_scope(self.tree, node_codes)
                      for room in self.tree.node(code).rooms if room.key}
        return [Membership(room, member, nickname, room_nodes.get(room))
                for room, member, nickname in await self.repo.memberships(room_nodes)]

    async def registry(self, node_code: str) -> HouseholdRegistry:
        """The households registered in the subtree of `node_code`."""
        return HouseholdRegistry(await self.repo.load(self.tree.descendant_codes(node_code)), self.tree)

    def _how(self, household: Household, membership: Membership) -> str:
        """How one member reaches a household: themselves, as a proxy, or as a tenant."""
        group = self.tree.group_name(membership.room_key)
        said = _nick(membership.nickname)
        for member in household.members:
            proxy = member.proxy
            if proxy is not None and proxy.nickname and _nick(proxy.nickname) == said:
                relation = f"（{member.name}的{proxy.relation}）" if proxy.relation else f"（{member.name}）"
                return f"经代联系人 {proxy.name}{relation}在「{group}」"
        tenant = next((t for t in household.tenants if t.nickname and _nick(t.nickname) == said), None)
        if isinstance(tenant, Tenant):
            return f"租客 {tenant.name} 在「{group}」"
        return f"在「{group}」：{membership.nickname}"

    async def reach(self, node_code: str) -> list[tuple[Household, list[str]]]:
        """Every household of the subtree and how it is reached (empty: 无人在群)."""
        registry = await self.registry(node_code)
        found: dict[str, list[str]] = {h.ref: [] for h in registry}
        for membership in await self.memberships([node_code]):
            household = match_member(membership.nickname, registry, node_code=membership.node_code,
                                     room_key=membership.room_key, on=self.today)
            if household is not None:
                found[household.ref].append(self._how(household, membership))
        return [(h, found[h.ref]) for h in registry]

    async def unreached_in(self, node_codes: Collection[str]) -> tuple[list[Household], int]:
        """The households of these subtrees nobody in any group speaks for, and how many are registered."""
        codes = {c for top in node_codes for c in self.tree.descendant_codes(top)}
        registry = HouseholdRegistry(await self.repo.load(codes), self.tree)
        return unreached(registry, await self.memberships(node_codes), self.today), len(registry)

    def _led_tops(self, person: Person) -> list[str]:
        """The highest nodes a person leads (their other led nodes lie inside these)."""
        led = [code for code, role in self.directory.positions(person.key)
               if role in self.config.roles and self.config.roles[role].leads and code in self.tree]
        return [c for c in led if not any(o != c and self.tree.is_within(c, o) for o in led)]

    def _find_node(self, text: str) -> GridNode | None:
        if text in self.tree:
            return self.tree.node(text)
        return next((n for n in self.tree if n.name == text), None)

    async def unreached_list(self, person: Person | None, where: GridNode | None, asked: str,
                             reply_to: Address) -> list[Reply]:
        """`#无人在群 [节点]`: the registered households of the leader's subtree that no group member speaks for."""
        if person is None:
            return [Reply(reply_to, wording.NOT_STAFF)]
        if asked:
            node = self._find_node(asked)
            if node is None:
                return [Reply(reply_to, f"没有找到节点“{asked}”。{wording.HELP}")]
            if not self.directory.leads(person.key, node.code):
                return [Reply(reply_to, f"抱歉，{node.name}不在您负责的范围内。")]
            tops = [node.code]
        elif where is not None and self.directory.leads(person.key, where.code):
            tops = [where.code]
        else:
            tops = self._led_tops(person)
            if not tops:
                return [Reply(reply_to, wording.NOT_STAFF)]
        households, registered = await self.unreached_in(tops)
        scope = "、".join(self.tree.node(c).name for c in tops)
        lines = [wording.household_line(h, self.today) for h in households]
        return [Reply(reply_to, wording.unreached_answer(scope, lines, registered), priority=3,
                      kind="households_unreached")]
