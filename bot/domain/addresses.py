"""Household addresses: the one place that makes "3号楼2单元201", "3栋2单元201室", "3-2-201" one key (pure).

A key is short text, comparable with `==`, in the shape residents already write in group nicknames:

- building, unit, room: ``3-2-201`` ("3号楼2单元201室", "3栋2单元201", "三号楼二单元201", "3#2-201", "３－２－２０１");
- building and room: ``3-201`` ("3幢201", "3号楼201室", "A栋201" → ``A-201``);
- unit and room (no building): ``2单元-201``;
- room only: ``201`` ("201室"), a floor let as one household: ``2楼``;
- a village or street address: ``李家村3组12号`` ("李家村三组12号"), with a room in it: ``东头12号-201``.

An estate name before the building ("江桥花苑3号楼201") is not part of the key: nicknames never carry it.
The keys `household_of` gives ("3-201", "1-1-101", "东头12号", "201", "2楼") are their own normalized form,
so the households already stored from nicknames keep their keys. A nickname that says less than the registry
("3-201" for 3-2-201, "201" in a 房东群) is matched by `compatible`: every part both name must agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
# Chinese numerals only where a marker follows, so that place names ("五一村", "十里铺") stay as written
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百]+(?=号楼|号|栋|幢|座|单元|组|队|楼|层|室)")
_DASHES = re.compile(r"[—–‐‑_/·~]+")
_SPACES = re.compile(r"\s+")
_ID = r"[A-Z]?\d+[A-Z]?|[A-Z]"
_ROOM_END = r"(?:室|号|房|户)?"
_FLOOR = r"(?:\d+[楼层]-?)?"
_HYPHENED = re.compile(rf"^(?P<b>{_ID})-(?:(?P<u>\d+)-)?(?P<r>{_ID}){_ROOM_END}$")
_MARKED = re.compile(rf"^(?P<pre>.*?)(?P<b>{_ID})(?:号楼|栋|幢|座|#楼?|号(?=-?\d+单元))-?"
                     rf"(?:(?P<u>\d+)(?:单元|-))?-?{_FLOOR}(?P<r>{_ID})?{_ROOM_END}$")
_UNIT_ONLY = re.compile(rf"^(?P<pre>.*?)(?P<u>\d+)单元-?{_FLOOR}(?P<r>{_ID}){_ROOM_END}$")
_FLOOR_ONLY = re.compile(r"^(?P<f>\d+)[楼层]$")
_ROOM_ONLY = re.compile(rf"^{_FLOOR}(?P<r>{_ID}){_ROOM_END}$")
_PLACE = re.compile(rf"^(?P<place>.*?[\u4e00-\u9fff].*?\d+号)(?:-?(?:(?P<r>{_ID})(?:室|房|户)?|(?P<f>\d+)[楼层]))?$")
_HAS_DIGIT = re.compile(r"\d")
_PART_ONLY = re.compile(r"^.*?\d+(?:号楼|栋|幢|座|单元|#)$")
# the address at the start of a nickname that has no space before the name: "3-201王芳", "3栋201室李"
_LEADING = re.compile(r"^[0-9A-Z#\-号楼栋幢座单元室层]+")


@dataclass(frozen=True, slots=True)
class Address:
    """The parts of a household address that matter for telling households apart."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    place: str | None = None  # a village or street address: "李家村3组12号"

    @property
    def key(self) -> str:
        """The normalized key (formats in the module docstring)."""
        if self.place is not None:
            return f"{self.place}-{self.room}" if self.room else self.place
        if self.building is not None:
            return "-".join(p for p in (self.building, self.unit, self.room) if p)
        if self.unit is not None:
            return f"{self.unit}单元-{self.room}"
        return self.room or ""

    @property
    def specific(self) -> bool:
        """True when it names more than a room: a bare "201" means something only inside one group's node."""
        return self.building is not None or self.unit is not None or self.place is not None


def _cn_number(text: str) -> str:
    """'三' → '3', '二零一' → '201', '十二' → '12', '一百零五' → '105'."""
    if "十" not in text and "百" not in text:
        return "".join(str(_CN_DIGITS[char]) for char in text)
    total, digit = 0, 0
    for char in text:
        if char in "十百":
            total += (digit or 1) * (10 if char == "十" else 100)
            digit = 0
        else:
            digit = _CN_DIGITS[char]
    return str(total + digit)


def clean(text: str) -> str:
    """Full-width to ASCII, Chinese numerals before markers to digits, one kind of dash, no spaces, A–Z upper."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _SPACES.sub("", text)
    text = _CN_RUN.sub(lambda m: _cn_number(m.group(0)), text)
    text = _DASHES.sub("-", text).replace("－", "-")
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text.upper()


def _number(part: str | None) -> str | None:
    """'03' → '3': buildings and units are numbers; rooms keep their zeros ("0201" is what the door says)."""
    return str(int(part)) if part is not None and part.isdigit() else part


def parse_address(text: str | None) -> Address | None:
    """The parts of an address as people write it; None when it names no household (a whole building, a name)."""
    s = clean(text or "")
    if not s or not _HAS_DIGIT.search(s):
        return None
    for pattern in (_HYPHENED, _MARKED, _UNIT_ONLY):
        m = pattern.match(s)
        if m:
            groups = m.groupdict()
            if not m.group("r"):
                return None  # "3号楼": a building is not a household
            return Address(_number(groups.get("b")), _number(groups.get("u")), m.group("r"))
    m = _FLOOR_ONLY.match(s)
    if m:
        return Address(room=f"{int(m.group('f'))}楼")
    m = _ROOM_ONLY.match(s)
    if m:
        return Address(room=m.group("r"))
    m = _PLACE.match(s)
    if m:
        room = m.group("r") or (f"{int(m.group('f'))}楼" if m.group("f") else None)
        return Address(room=room, place=m.group("place"))
    if _PART_ONLY.match(s):
        return None  # "2单元", "3幢": part of a building, not a household
    # anything else with a number in it ("李家村3组", "菜场3号摊"): the cleaned text itself, so spellings that
    # differ only in width, spaces or numerals still meet
    return Address(place=s)


def normalize_address(text: str | None) -> str | None:
    """The comparable key of an address ("3号楼2单元201" → "3-2-201"); None when it names no household."""
    found = parse_address(text)
    return found.key if found is not None else None


def address_from_parts(building: str | None, unit: str | None, room: str | None) -> Address | None:
    """An address from a spreadsheet's 楼栋 / 单元 / 房号 columns ("3号楼", "2单元", "201室" or bare numbers)."""
    b, u, r = (clean(str(p)) if p not in (None, "") else "" for p in (building, unit, room))
    b = re.sub(r"(号楼|栋|幢|座|#楼?|号|楼)$", "", b)
    u = re.sub(r"单元$", "", u)
    if not r:
        return None
    if b and u:
        return parse_address(f"{b}-{u}-{r}")
    if b:
        return parse_address(f"{b}-{r}")
    if u:
        return parse_address(f"{u}单元{r}")
    return parse_address(r)


def nickname_address(nickname: str | None) -> Address | None:
    """The address a group nickname starts with: "3-201 王芳", "3栋2单元201 王芳", "3-201王芳", "东头12号 陈老板"."""
    text = unicodedata.normalize("NFKC", nickname or "").strip()
    if not text:
        return None
    token = clean(re.split(r"[\s,，:：|]+", text, maxsplit=1)[0])
    lead = _LEADING.match(token)
    if lead and lead.group(0) != token:  # "3-201王芳": the name follows without a space
        found = parse_address(lead.group(0))
        if found is not None:
            return found
    return parse_address(token)


def compatible(said: Address, known: Address) -> bool:
    """True when a nickname's address can be this household's: the same room, and no part both name differs."""
    if said.room != known.room:
        return False
    if said.room is None and (said.place is None or said.place != known.place):
        return False
    if said.place is not None and known.place is None:
        return False
    if said.place is None and said.building is not None and known.place is not None:
        return False
    return all(a is None or b is None or a == b
               for a, b in ((said.place, known.place), (said.building, known.building), (said.unit, known.unit)))
