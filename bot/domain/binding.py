"""One-time binding codes: `gridbot user bind` prints one, the person sends it to the bot privately.

A code is 12 characters from an alphabet without look-alikes (about 59 bits), shown as `XXXX-XXXX-XXXX`;
only its SHA-256 is stored, so a copy of the database does not hand out bindings.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12
CODE_LIFETIME = timedelta(hours=24)
BIND_WORD = "绑定"

# "绑定 K7QM-3XTA-9PWE", "#绑定：k7qm3xta9pwe", or the bare dashed code
_WITH_WORD = re.compile(r"^\s*[#＃]?\s*(?:绑定|bind)\s*[:：]?\s*([A-Za-z0-9][A-Za-z0-9\s\-]{10,30})\s*$", re.I)
_BARE = re.compile(r"^\s*([A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4})\s*$")


def new_code() -> str:
    """A fresh random code, grouped for reading aloud: 'K7QM-3XTA-9PWE'."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    """What is hashed: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-]", "", code).upper()


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode("ascii", "ignore")).hexdigest()


def code_in(text: str | None) -> str | None:
    """The binding code a message carries ('绑定 XXXX-XXXX-XXXX' or the bare code), else None."""
    if not text or len(text) > 80:
        return None
    match = _WITH_WORD.match(text) or _BARE.match(text)
    if match is None:
        return None
    code = normalize_code(match.group(1))
    return code if len(code) == CODE_LENGTH else None
