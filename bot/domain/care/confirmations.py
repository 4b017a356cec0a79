"""A helper's word that the resident is all right ("见到了，挺好", "联系上了，没事"), told apart from news that
they are not ("没人开门", "电话打不通"): only the first may stand the others down."""

from __future__ import annotations

import re

_SAFE = re.compile(r"见到了|见着了|看到了|看过了|联系上了|联系到了|打通了|接电话了|回电话了|在家|没事|没问题|挺好|很好|都好|"
                   r"安好|平安|好着|精神|睡着了|出门了|买菜|在女儿家|在儿子家|在亲戚家")
_NOT_SAFE = re.compile(r"没(有)?(见到|看到|联系上|联系到|人|开门|接|回)|不(在家|开门|接|通|回)|打不通|联系不上|找不到|"
                       r"敲门没|无人|关机|摔|倒|晕|送医|120|急救|不好|不对劲|[?？]")


def confirms_safe(text: str) -> bool:
    """True when a helper's message says they saw or reached the resident and all is well."""
    clean = (text or "").strip()
    return bool(clean) and _SAFE.search(clean) is not None and _NOT_SAFE.search(clean) is None
