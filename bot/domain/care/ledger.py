"""The care ledger (关爱台账): who is cared for, by whom, how often, and who may read it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.grid import GridTree

# The usual kinds; a deployment lists its own in config and passes them as `allowed`.
DEFAULT_KINDS: tuple[str, ...] = ("独居老人", "高龄", "残疾", "低保", "留守儿童", "重病")
# Roles that carry a care duty unless a deployment says otherwise.
DEFAULT_DUTY_ROLES: tuple[str, ...] = ("社区书记", "社区主任", "网格长", "微网格长", "楼道长")
LIVING_ALONE = "独居老人"


class CareError(ValueError):
    """A ledger entry that cannot be kept as written (the message is for the person who wrote it)."""


@dataclass(frozen=True, slots=True)
class Relative:
    """A family member who speaks for the resident (代办人): a contact id or person key, and how to name them."""

    contact: str
    name: str = ""
    relation: str = ""  # 女儿, 儿子 ...

    @property
    def label(self) -> str:
        """'女儿王丽', '王丽' or '家属'."""
        return f"{self.relation}{self.name}" or "家属"


@dataclass(frozen=True, slots=True)
class CareEntry:
    """One resident in the ledger: where they live, why they are cared for, who sees them and how often."""

    key: str
    name: str                      # as neighbours call them: 吴奶奶
    node_code: str                 # the node they live under (楼道 or 微网格)
    address: str                   # 1-1-601, 东头12号
    kinds: tuple[str, ...]
    responsible: str               # person key of whoever visits
    visit_every: timedelta | None = None
    call_every: timedelta | None = None
    notes: str = ""
    family: tuple[Relative, ...] = ()
    check_in: bool = False         # daily 报平安
    since: datetime | None = None  # when the entry was made: a first visit is due one interval later

    @property
    def household(self) -> str:
        """Coverage counts households (户): two people at one address are one visit."""
        return self.address or self.key

    @property
    def lives_alone(self) -> bool:
        return LIVING_ALONE in self.kinds


def check_kinds(kinds: Iterable[str], allowed: Collection[str]) -> tuple[str, ...]:
    """The kinds, stripped and without repeats; CareError naming any kind the deployment does not list."""
    seen: list[str] = []
    for kind in kinds:
        kind = kind.strip()
        if kind and kind not in seen:
            seen.append(kind)
    unknown = [k for k in seen if k not in allowed]
    if unknown:
        raise CareError(f"不认识的关爱类别：{'、'.join(unknown)}（可用：{'、'.join(allowed)}）")
    if not seen:
        raise CareError(f"请写明关爱类别（可用：{'、'.join(allowed)}）")
    return tuple(seen)


def check_entry(entry: CareEntry, allowed_kinds: Collection[str], tree: GridTree | None = None) -> CareEntry:
    """The entry with its kinds checked (and its node, given the tree); CareError otherwise."""
    kinds = check_kinds(entry.kinds, allowed_kinds)
    if not entry.name.strip():
        raise CareError("请写上关爱对象的称呼")
    if not entry.responsible:
        raise CareError(f"{entry.name}还没有责任人")
    if entry.visit_every is None and entry.call_every is None and not entry.check_in:
        raise CareError(f"{entry.name}：请写明多久走访或电话一次")
    for every in (entry.visit_every, entry.call_every):
        if every is not None and every <= timedelta(0):
            raise CareError(f"{entry.name}：走访或电话间隔必须大于零")
    if tree is not None and entry.node_code not in tree:
        raise CareError(f"{entry.name}：网格里没有节点 {entry.node_code}")
    if kinds == entry.kinds:
        return entry
    return replace(entry, kinds=kinds)


def may_see_care(positions: Iterable[tuple[str, str]], node_code: str, tree: GridTree,
                 duty_roles: Collection[str] = DEFAULT_DUTY_ROLES) -> bool:
    """True when one of the viewer's (node code, role) positions is a care duty on `node_code` or above.

    A neighbour, a landlord or a police officer sees nothing unless the deployment lists their role as a duty:
    the ledger says who is old, ill and alone, which is exactly what a burglar would want to know."""
    return any(role in duty_roles and code in tree and tree.is_within(node_code, code)
               for code, role in positions)


def may_see_entry(entry: CareEntry, viewer: str | None, positions: Iterable[tuple[str, str]], tree: GridTree,
                  duty_roles: Collection[str] = DEFAULT_DUTY_ROLES) -> bool:
    """`may_see_care` for the entry's node, or the viewer is the entry's own responsible person."""
    return (viewer is not None and viewer == entry.responsible) or may_see_care(
        positions, entry.node_code, tree, duty_roles)


def visible_entries(entries: Iterable[CareEntry], viewer: str | None, positions: Sequence[tuple[str, str]],
                    tree: GridTree, duty_roles: Collection[str] = DEFAULT_DUTY_ROLES) -> list[CareEntry]:
    """The entries the viewer may read, in the order given."""
    return [e for e in entries if may_see_entry(e, viewer, positions, tree, duty_roles)]


def first_responders(tree: GridTree, node_code: str, roles: Sequence[str] = ("楼道长", "微网格长")) -> tuple[str, ...]:
    """Person keys of the nearest holders of `roles` (the first role found walking up wins)."""
    for node in tree.lineage(node_code):
        for role in roles:
            people = node.people_with(role)
            if people:
                return people
    return ()
