"""`settle_heap`, which `gridbot run` calls once started: what is alive leaves the collector's sight, and garbage
left from start-up is collected first (frozen, it would never be)."""

from __future__ import annotations

import gc
import weakref

from bot.app import settle_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_settling_freezes_what_is_alive_and_collects_start_up_s_garbage_first() -> None:
    kept = [[] for _ in range(1000)]  # noqa: F841 - alive: frozen
    first, second = _Node(), _Node()
    first.other, second.other = second, first  # a cycle only the collector frees
    gone = weakref.ref(first)
    del first, second
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gone() is None  # collected before freezing: not kept for ever
        assert gc.get_freeze_count() >= before + 1000
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
