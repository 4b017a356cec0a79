"""Console and API accounts: password hashing, tokens, and what an account may see.

An account is linked to a person of config.yaml; its scope is what that person leads (a secretary the whole
community, a grid leader their grid), and its actions go through the same TicketDesk / NoticeDesk as chat
commands, with the same permission checks. A viewer has no person: read-only, on one node's subtree.
Seeing a ticket is not reading its residents' phone and ID numbers: see `WebUser.reads_in_full`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from bot.domain.grid import GridTree, Person, node_path
from bot.domain.people import Directory

ROLES = ("secretary", "leader", "viewer")
ROLE_NAMES = {"secretary": "书记/主任", "leader": "负责人", "viewer": "只读"}
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
# checked when a username does not exist, so that a wrong name costs the same scrypt as a wrong password
DUMMY_HASH = "scrypt$16384$8$1$2okMqbuneHh7Za56VRqEfQ==$NkLtLbjqJ115BXwG8AQJnzoYVI4xKL0NRmpzeoc4jrs="


def hash_password(password: str) -> str:
    """scrypt with a random salt: 'scrypt$16384$8$1$<salt>$<hash>'."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "$".join(("scrypt", str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"]),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), dklen=len(expected),
                             n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_token() -> tuple[str, str]:
    """A fresh secret and the hash kept in the database."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class WebUser:
    """A signed-in account and its scope in the tree."""

    username: str
    role: str
    person: Person | None
    nodes: tuple[str, ...]  # the subtrees it may see

    @property
    def can_act(self) -> bool:
        return self.role != "viewer" and self.person is not None

    def can_see(self, tree: GridTree, node_code: str | None) -> bool:
        return node_code is not None and node_code in tree and any(
            tree.is_within(node_code, top) for top in self.nodes)

    def reads_in_full(self, directory: Directory, node_code: str | None) -> bool:
        """True when the account may read a ticket's resident text unmasked; else API answers and exports mask it.

        The choice: full text for the people who answer for the ticket — the account's person holds a leading or
        handling role on the ticket's node or one of its ancestors (the chain a ticket is escalated along: a
        micro-grid leader, the grid leader, the community secretary). Everyone else reads phone and ID numbers
        masked: viewers, accounts without a person, and secretary or leader accounts whose person has no such
        role above that node (the account's role widens what it sees, not what it may read in full).
        """
        if self.role == "viewer" or self.person is None or node_code is None or node_code not in directory.tree:
            return False
        return directory.leads(self.person.key, node_code) or directory.handles(self.person.key, node_code)

    def path_prefixes(self, tree: GridTree) -> list[str] | None:
        """node_path prefixes of its subtrees; None when it sees the whole tree."""
        if set(self.nodes) >= set(tree.roots):
            return None
        return [node_path(tree, code) for code in self.nodes]


def scope(tree: GridTree, directory: Directory, *, role: str, person_key: str | None,
          node_code: str | None) -> tuple[str, ...]:
    """The subtrees an account sees: everything for a secretary, what the person leads or handles for a leader,
    the given node for a viewer. Narrowest first is not needed: overlapping subtrees are dropped."""
    if role == "secretary":
        return tuple(tree.roots)
    if role == "leader" and person_key is not None:
        codes = sorted({code for code, role_name in directory.positions(person_key)
                        if role_name in directory.roles and (directory.roles[role_name].leads
                                                             or directory.roles[role_name].handles)},
                       key=lambda c: (tree.node(c).depth, c))
        tops: list[str] = []
        for code in codes:
            if not any(tree.is_within(code, top) for top in tops):
                tops.append(code)
        return tuple(tops)
    return (node_code,) if node_code and node_code in tree else ()
