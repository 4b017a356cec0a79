"""The grid tree: lookups up and down, rooms, and refusal of what is not a tree."""

from __future__ import annotations

import pytest

from bot.cli.gen_config import generate
from bot.config import parse_config
from bot.domain.grid import GridError, GridNode, GridTree, Room

TIERS = ("社区", "网格", "微网格")


def node(code: str, parent: str | None, depth: int, rooms: tuple[Room, ...] = ()) -> GridNode:
    return GridNode(code=code, name=code, tier=TIERS[depth], depth=depth, parent=parent, rooms=rooms)


def small_tree() -> GridTree:
    return GridTree(TIERS, [
        node("A", None, 0), node("A-1", "A", 1), node("A-1-1", "A-1", 2, (Room("A-1-1", topic="一号群", id="r1"),)),
        node("A-1-2", "A-1", 2), node("A-2", "A", 1), node("A-2-1", "A-2", 2, (Room("A-2-1", topic="二号群"),)),
    ])


def test_ancestors_nearest_first() -> None:
    tree = small_tree()
    assert [n.code for n in tree.ancestors("A-1-2")] == ["A-1", "A"]
    assert [n.code for n in tree.lineage("A-1-2")] == ["A-1-2", "A-1", "A"]
    assert tree.ancestors("A") == ()


def test_descendants_are_the_subtree_in_preorder() -> None:
    tree = small_tree()
    assert list(tree.descendant_codes("A-1")) == ["A-1", "A-1-1", "A-1-2"]
    assert list(tree.descendant_codes("A", include_self=False)) == ["A-1", "A-1-1", "A-1-2", "A-2", "A-2-1"]
    assert tree.subtree_size("A-2") == 2
    assert tree.is_within("A-2-1", "A-2") and not tree.is_within("A-2-1", "A-1")


def test_room_lookup_by_id_then_topic() -> None:
    tree = small_tree()
    assert tree.node_for_room(room_id="r1").code == "A-1-1"
    assert tree.node_for_room(room_id="unknown", topic="二号群").code == "A-2-1"
    assert tree.node_for_room(topic="三号群") is None
    assert [c.code for c in tree.children("A")] == ["A-1", "A-2"]


def test_refuses_unknown_parent_duplicates_and_cycles() -> None:
    with pytest.raises(GridError, match="unknown parent"):
        GridTree(TIERS, [node("A", None, 0), node("B", "X", 1)])
    with pytest.raises(GridError, match="duplicate"):
        GridTree(TIERS, [node("A", None, 0), node("A", None, 0)])
    with pytest.raises(GridError, match="cycle"):
        GridTree(TIERS, [node("A", None, 0), node("B", "C", 1), node("C", "B", 2)])


def test_generated_zone_tree_has_exactly_the_groups_asked_for() -> None:
    config = parse_config(generate(1500, seed=3))
    tree = config.tree
    assert sum(1 for _ in tree.rooms()) == 1500
    for n in tree:  # every child is of a lower tier than its parent
        parent = tree.parent(n.code)
        assert parent is None or parent.depth < n.depth
    leaf = next(n for n in tree if not n.children and n.depth >= 3)
    assert tree.lineage(leaf.code)[-1].code == "Z"
