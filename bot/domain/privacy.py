"""Personal data in residents' words: the one place that masks mobile and ID-card numbers.

Pure. Every text that leaves for someone without the right to read it in full — digests, the public Open311
feed, API answers and exports for accounts outside the ticket's chain — passes through `mask_personal`.
Numbers are matched in ASCII and full-width digits, with one space or dash between the usual groups
(138 1234 5678, 110101 19900307 123X), a +86 / 0086 / 86 country code before a mobile, and never inside a
longer run of digits: ticket numbers (1024), rooms (3-1-201), dates (20231122, 2026-11-22) stay as they are.
"""

from __future__ import annotations

import re

_D = "[0-9０-９]"
_SEP = r"[ \t\u3000\-－–—]?"  # one space (also full-width) or dash between groups
_NO_DIGIT_BEFORE = r"(?<![0-9０-９])"
_ID_CARD = re.compile(
    _NO_DIGIT_BEFORE + f"[1-9１-９]{_D}{{5}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}}[0-9０-９XxＸｘ]"
    r"(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])")
_PHONE = re.compile(
    _NO_DIGIT_BEFORE + r"((?:(?:[+＋]|00|００)?(?:86|８６)\)?[ \t\u3000\-－]?)?)"
    f"([1１][3-9３-９]{_D}){_SEP}({_D}{{4}}){_SEP}({_D}{{4}})(?![0-9０-９])")
_GAPS = re.compile(r"[ \t\u3000\-－–—]")


def _mask_id(match: re.Match[str]) -> str:
    digits = _GAPS.sub("", match.group(0))
    return digits[:3] + "*" * 11 + digits[-4:]


def mask_personal(text: str) -> str:
    """Mobile numbers → 138****5678 (a country code kept); ID-card numbers → 110***********123X."""
    text = _ID_CARD.sub(_mask_id, text)
    return _PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(4)}", text)


def mask_optional(text: str | None) -> str | None:
    """`mask_personal` for a field that may be empty."""
    return mask_personal(text) if text else text
