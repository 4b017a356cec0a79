"""Visits and calls (走访, 电话关心): the `#走访` command, who is overdue, and the month's coverage.

`#走访 5-601 已上门，身体好，药够吃` records a visit; the household is named by an address in any of the ways
people write one ("5-601", "5号楼601", "5栋6单元601", "5#601", "东头12号") or by what neighbours call the
resident ("吴奶奶"). Addresses are normalised to dashes ("5栋6单元601" → "5-6-601") and a building-and-room
address matches a ledger address with a unit ("5-601" finds "5-6-601") when only one does.

Coverage counts households (户), calendar months: an entry seen at least once a month is due every month, one
seen less often is due in the month its next visit falls (or earlier, and still not done).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.domain.care.ledger import CareEntry

VISIT = "visit"
CALL = "call"

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃－：，", "0123456789#-:,")
_COMMAND = re.compile(r"^\s*(#)?\s*(电话回访|电话走访|电话关心|走访|入户|上门|探访|回访|探望|看望|电访|电话)\s*[:：]?\s*")
_SEP = r"[\s,，、/；;：:。.]*"
_ADDRESSES = (
    (re.compile(r"(\d{1,3})\s*(?:号楼|栋|幢|座|号|#)\s*(\d{1,2})\s*单元\s*(\d{2,4})\s*(?:室|号)?"), 3),
    (re.compile(r"(\d{1,3})\s*(?:号楼|栋|幢|座|#)\s*(\d{2,4})\s*(?:室|号)?"), 2),
    (re.compile(r"(\d{1,3})-(\d{1,2})-(\d{2,4})(?!\d)(?:室|号)?"), 3),
    (re.compile(r"(\d{1,3})-(\d{2,4})(?![\d-])(?:室|号)?"), 2),
    (re.compile(r"([\u4e00-\u9fff]{1,5}\d{1,4}号(?:\d{1,4}室?)?)"), 1),  # 东头12号, 学府路2号
)
_HONORIFIC = (r"奶奶|爷爷|阿婆|阿公|婆婆|公公|大爷|大妈|大娘|大伯|老伯|伯伯|阿伯|叔叔|阿叔|阿姨|老人|老师|师傅"
              r"|老太|伯|叔|婶|姨")
# Names are led by a common surname, so "都好" or "阿姨说挺好" after an address stay in the note.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
             "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
             "傅施洪欧柳游牛符葛")
_NAME = re.compile(rf"(老[{_SURNAMES}]|[{_SURNAMES}][\u4e00-\u9fff]{{0,2}}?(?:{_HONORIFIC}))(?:家|那里|那儿)?")
_PLAIN_NAME = re.compile(rf"([{_SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=[\s,，、:：]|$)")
_NOT_A_NAME = re.compile(r"^(已|今天|昨天|前天|上门|电话|身体|一切|情况|在家|不在|没人|家里|精神|药|血压|视频|刚|去|到"
                         r"|老人|老两口|老伴|老太太|老爷子)")
_WHEN = re.compile(r"(今天|今日|昨天|昨日|前天)")
_CALL_WORDS = re.compile(r"电话|视频|语音|打了个?电话")
_VISIT_WORDS = re.compile(r"上门|入户|见到|家里|到家|当面|门口")


@dataclass(frozen=True, slots=True)
class VisitDraft:
    """A `#走访` command read: the households named, what was seen, visit or call, how many days ago."""

    targets: tuple[str, ...]  # normalised addresses ("5-6-601") and names ("吴奶奶"), in the order written
    note: str
    kind: str = VISIT
    days_ago: int = 0
    photo: bool = False

    def at(self, now: datetime) -> datetime:
        """When the visit happened: now, or the same hour `days_ago` days before (\"昨天走访的\")."""
        return now - timedelta(days=self.days_ago)


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit or a call recorded against a ledger entry."""

    entry_key: str
    at: datetime
    kind: str = VISIT
    by: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Overdue:
    """An entry whose visit (or call) is late: when it was last done and when it was due (None: always)."""

    entry: CareEntry
    kind: str
    last: datetime | None
    due: datetime | None


class Coverage(NamedTuple):
    """Households due a visit in a month, and how many of them were visited."""

    due: int
    done: int


def is_address(target: str) -> bool:
    """Addresses hold a digit; names do not."""
    return any(c.isdigit() for c in target)


def normalise_address(text: str) -> str | None:
    """'5号楼601' → '5-601', '5栋6单元601' → '5-6-601', '5-601室' → '5-601'; None when no address leads the text."""
    found = _address_at(text.translate(_FULL_WIDTH).strip())
    return found[0] if found else None


def _address_at(text: str) -> tuple[str, int] | None:
    for pattern, groups in _ADDRESSES:
        match = pattern.match(text)
        if match:
            value = match.group(1) if groups == 1 else "-".join(str(int(g)) if i < groups - 1 else g
                                                               for i, g in enumerate(match.groups()))
            return value, match.end()
    return None


def parse_visit_command(text: str, *, photo: bool = False) -> VisitDraft | None:
    """`#走访 5-601 已上门，身体好` → VisitDraft; None when the text is not a visit command.

    A photo's caption may leave out the '#' ("走访 吴奶奶"); a plain message may not, since "上门" and
    "走访" are words residents use too."""
    clean = (text or "").translate(_FULL_WIDTH)
    command = _COMMAND.match(clean)
    if command is None or (command.group(1) is None and not photo):
        return None
    kind = CALL if command.group(2).startswith("电") else VISIT
    rest = clean[command.end():]
    targets: list[str] = []
    days_ago = 0
    while True:
        rest = re.sub(rf"^{_SEP}", "", rest)
        when = _WHEN.match(rest)
        if when and re.match(r"[\s,，、:：\d]", rest[when.end():when.end() + 1] or " "):
            days_ago = {"昨天": 1, "昨日": 1, "前天": 2}.get(when.group(1), 0)
            rest = rest[when.end():]
            continue
        found = _address_at(rest)
        if found:
            targets.append(found[0])
            rest = rest[found[1]:]
            continue
        name = _NAME.match(rest) or (None if _NOT_A_NAME.match(rest) else _PLAIN_NAME.match(rest))
        if name and name.group(1) not in targets and not _NOT_A_NAME.match(name.group(1)):
            targets.append(name.group(1))
            rest = rest[name.end():]
            continue
        break
    note = text[len(clean) - len(rest):].strip(" \t,，、:：;；。")  # translate() kept every offset
    if kind == VISIT and _CALL_WORDS.search(note) and not _VISIT_WORDS.search(note):
        kind = CALL
    return VisitDraft(targets=tuple(dict.fromkeys(targets)), note=note, kind=kind, days_ago=days_ago,
                      photo=photo)


def _parts(address: str) -> tuple[str, ...]:
    return tuple(address.split("-"))


def find_entries(target: str, entries: Iterable[CareEntry]) -> list[CareEntry]:
    """The ledger entries a target names: the same address (or the same building and room when one of the two
    leaves the unit out), or the same name (a name also matches a longer one: "吴奶奶" in "1-1-601 吴奶奶")."""
    entries = list(entries)
    if is_address(target):
        wanted = normalise_address(target) or target
        exact = [e for e in entries if (normalise_address(e.address) or e.address) == wanted]
        if exact:
            return exact
        w = _parts(wanted)
        loose = []
        for entry in entries:
            have = _parts(normalise_address(entry.address) or entry.address)
            if len(w) != len(have) and {len(w), len(have)} == {2, 3}:
                long, short = (w, have) if len(w) == 3 else (have, w)
                if (long[0], long[2]) == short:
                    loose.append(entry)
        return loose
    exact = [e for e in entries if e.name == target]
    return exact or [e for e in entries if target in e.name]


def _last(visits: Iterable[Visit], key: str, kinds: tuple[str, ...], before: datetime) -> datetime | None:
    times = [v.at for v in visits if v.entry_key == key and v.kind in kinds and v.at <= before]
    return max(times) if times else None


def overdue_visits(entries: Iterable[CareEntry], visits: Iterable[Visit], now: datetime) -> list[Overdue]:
    """Visits and calls now late, most overdue first; a visit counts as a call too (seeing beats ringing)."""
    visits = list(visits)
    late: list[Overdue] = []
    for entry in entries:
        for kind, every, kinds in ((VISIT, entry.visit_every, (VISIT,)), (CALL, entry.call_every, (VISIT, CALL))):
            if every is None:
                continue
            last = _last(visits, entry.key, kinds, now)
            start = last or entry.since
            due = None if start is None else start + every
            if due is None or due <= now:
                late.append(Overdue(entry, kind, last, due))
    return sorted(late, key=lambda o: (o.due is not None, o.due or now))


def month_bounds(month: date, timezone: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """The first moment of `month` and of the month after, in the deployment's time zone."""
    tz = ZoneInfo(timezone)
    first = date(month.year, month.month, 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return datetime.combine(first, time(0), tz), datetime.combine(nxt, time(0), tz)


def _due_in(entry: CareEntry, visits: Sequence[Visit], start: datetime, end: datetime) -> bool:
    if entry.visit_every is None or (entry.since is not None and entry.since >= end):
        return False
    if entry.visit_every <= timedelta(days=31):
        return True
    last = _last(visits, entry.key, (VISIT,), start - timedelta(microseconds=1)) or entry.since
    return last is None or last + entry.visit_every < end


def _month(entries: Iterable[CareEntry], visits: Iterable[Visit], month: date,
           timezone: str) -> tuple[dict[str, list[CareEntry]], set[str]]:
    start, end = month_bounds(month, timezone)
    visits = list(visits)
    due: dict[str, list[CareEntry]] = {}
    for entry in entries:
        if _due_in(entry, visits, start, end):
            due.setdefault(entry.household, []).append(entry)
    seen = {v.entry_key for v in visits if v.kind == VISIT and start <= v.at < end}
    done = {household for household, people in due.items() if any(e.key in seen for e in people)}
    return due, done


def coverage(entries: Iterable[CareEntry], visits: Iterable[Visit], month: date,
             timezone: str = "Asia/Shanghai") -> Coverage:
    """(households due a visit in `month`, households visited): "本月应访 42 户，已访 37 户"."""
    due, done = _month(entries, visits, month, timezone)
    return Coverage(len(due), len(done))


def unvisited(entries: Iterable[CareEntry], visits: Iterable[Visit], month: date,
              timezone: str = "Asia/Shanghai") -> list[CareEntry]:
    """One entry per household due a visit in `month` and not yet visited, in ledger order."""
    due, done = _month(entries, visits, month, timezone)
    return [people[0] for household, people in due.items() if household not in done]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A draft's targets looked up in the ledger: the entries found (each once), and what matched none or many."""

    entries: tuple[CareEntry, ...]
    unknown: tuple[str, ...] = ()
    ambiguous: tuple[tuple[str, tuple[CareEntry, ...]], ...] = ()


def resolve(draft: VisitDraft, entries: Iterable[CareEntry]) -> Resolved:
    """Each target of the draft to one ledger entry ("1-1-601 吴奶奶" names one household, recorded once)."""
    entries = list(entries)
    found: dict[str, CareEntry] = {}
    unknown: list[str] = []
    ambiguous: list[tuple[str, tuple[CareEntry, ...]]] = []
    for target in draft.targets:
        matches = find_entries(target, entries)
        if len(matches) == 1:
            found.setdefault(matches[0].key, matches[0])
        elif not matches:
            unknown.append(target)
        else:
            ambiguous.append((target, tuple(matches)))
    # a name next to an address that already found its entry is the same person, not a second puzzle
    ambiguous = [(t, c) for t, c in ambiguous if not any(e.key in found for e in c)]
    return Resolved(tuple(found.values()), tuple(unknown), tuple(ambiguous))
