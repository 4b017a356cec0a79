"""Several accounts, one deployment: which account serves which group.

A group may be reachable by more than one account (both bots were added to it). Exactly one serves it:
the current one while it is alive and still in the group (a stable choice, so groups do not flap),
otherwise the live account that ranks highest for that group by rendezvous hashing — the same answer
in every process, and when an account goes away only its own groups move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping


def rank(room_key: str, account: str) -> int:
    """A stable pseudo-random rank of an account for a group (highest wins)."""
    return int.from_bytes(hashlib.blake2b(f"{room_key}\x00{account}".encode(), digest_size=8).digest(), "big")


def choose(room_key: str, candidates: Iterable[str], current: str | None) -> str | None:
    """The account that should serve the group: the current one if it is still a candidate, else the best ranked."""
    pool = set(candidates)
    if current is not None and current in pool:
        return current
    if not pool:
        return None
    return max(pool, key=lambda account: (rank(room_key, account), account))


def reassign(reach: Mapping[str, Iterable[str]], live: Iterable[str],
             current: Mapping[str, str | None]) -> dict[str, str | None]:
    """Groups whose serving account must change: {room key: new account (None: no live account reaches it)}."""
    alive = set(live)
    changes: dict[str, str | None] = {}
    for room, accounts in reach.items():
        chosen = choose(room, (a for a in accounts if a in alive), current.get(room))
        if chosen != current.get(room):
            changes[room] = chosen
    for room, serving in current.items():  # groups no account reports any more
        if room not in reach and serving is not None:
            changes[room] = None
    return changes
