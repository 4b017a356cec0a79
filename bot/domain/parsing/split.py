"""Several problems in one message: "反映两个事：一是…二是…", "…，还有…", "另外…", or sentences apart.

Pure text work: `split_reports` cuts where a resident starts a new matter; the caller parses each part and
opens a ticket for each only when every part is itself a report (and, for plain sentences, about different
things), so one report told in two sentences stays one ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "反映两个事：" / "有几个问题：" before the list
_PREAMBLE = re.compile(r"^\s*(?:我?(?:想|要)?(?:反映|说|报|提)(?:一下)?)?\s*[两二三四几\d]+\s*(?:个|件)\s*(?:事|事情|问题)"
                       r"(?:情况)?\s*[:：,，。]?\s*")
_ORDINALS = r"(?:一|二|三|四|五|两|\d)"
# "一是" "二是" "第一" "第二，" "1." "2、" "一、"; "还有" "另外" "再就是" "再有"
_ENUMERATED = re.compile(rf"(?:^|(?<=[\s，,。.；;！!？?]))(?:{_ORDINALS}是|第{_ORDINALS}[是，,、:：]?|{_ORDINALS}[、.．)）]|"
                         rf"\d[、.．)）])\s*")
_ALSO = re.compile(r"[\s，,。；;！!]+(?:还有(?:就是)?|另外(?:还有)?|再就是|再有|此外)[，,:：]?\s*")
_SENTENCE = re.compile(r"(?<=[。！!？?；;\n])\s*")
_EDGE = " \t\n，,。；;、:："


@dataclass(frozen=True, slots=True)
class Parts:
    """The pieces of a message; `marked`: the writer said so (一是/二是/还有/另外), else plain sentences."""

    parts: tuple[str, ...]
    marked: bool


def split_reports(text: str) -> Parts:
    """'反映两个事：一是3号楼灯坏了，二是垃圾没人收' → ('3号楼灯坏了', '垃圾没人收'), marked."""
    text = (text or "").strip()
    body = _PREAMBLE.sub("", text, count=1)
    pieces = [p.strip(_EDGE) for p in _ENUMERATED.split(body)]
    pieces = [p for p in pieces if p]
    if len(pieces) >= 2 and _ENUMERATED.search(body):
        return Parts(tuple(pieces), True)
    pieces = [p.strip(_EDGE) for p in _ALSO.split(body)]
    pieces = [p for p in pieces if p]
    if len(pieces) >= 2:
        return Parts(tuple(pieces), True)
    pieces = [p.strip(_EDGE) for p in _SENTENCE.split(body)]
    pieces = [p for p in pieces if len(p) >= 4]
    return Parts(tuple(pieces), False) if len(pieces) >= 2 else Parts((text,), False)
