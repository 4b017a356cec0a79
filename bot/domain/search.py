"""Search terms for residents' words: Chinese by overlapping pairs of characters, other scripts by word.

"3号楼燃气味很重" → {"3", "号楼", "燃气", "气味", "味很", "很重", ...}. A query's terms must all be among a text's
terms, which makes a two-character word like 燃气 findable from an index (trigram indexes need three).
"""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+")
MAX_TERMS = 200


def terms(text: str) -> set[str]:
    """The index terms of a text (normalised: full-width → half-width, lower case)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    found: set[str] = set()
    for run in _CJK.findall(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i:i + 2] for i in range(len(run) - 1))
    found.update(word[:16] for word in _WORD.findall(text))
    return set(sorted(found)[:MAX_TERMS]) if len(found) > MAX_TERMS else found


def query_terms(query: str) -> set[str]:
    """The terms a text must have to contain the query; empty when the query is a single Chinese character."""
    found = terms(query)
    return {t for t in found if not (len(t) == 1 and _CJK.fullmatch(t))}
