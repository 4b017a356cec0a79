"""Visits: the #走访 command as different people write it, who is overdue, and the month's coverage."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.care import (CALL, VISIT, CareEntry, Visit, coverage, find_entries, normalise_address,
                             overdue_visits, parse_visit_command, resolve, unvisited)
from bot.domain.care.wording import coverage_text, overdue_text, visit_ack_text, visit_problem_text

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime.combine(date(y, m, d), time(hh), TZ)


def entry(key: str, name: str, address: str, every: timedelta | None = timedelta(days=7),
          call: timedelta | None = None, since: datetime | None = None) -> CareEntry:
    return CareEntry(key=key, name=name, node_code="JQS-01-04", address=address, kinds=("独居老人",),
                     responsible="zhao_jie", visit_every=every, call_every=call, since=since)


LEDGER = [
    entry("lin", "林阿婆", "5-6-601"),
    entry("song", "宋老师", "5-101"),
    entry("wu", "吴奶奶", "1-1-601"),
    entry("wu2", "吴爷爷", "1-1-601"),      # her husband: the same household
    entry("chen", "陈伯", "东头12号"),
    entry("he", "何爷爷", "1-2-501"),
    entry("he2", "何奶奶", "3-1-201"),
]


@pytest.mark.parametrize(("text", "targets", "note", "kind"), [
    ("#走访 5-601 已上门，身体好，药够吃", ("5-601",), "已上门，身体好，药够吃", VISIT),
    ("#走访 5号楼601 已上门", ("5-601",), "已上门", VISIT),
    ("#走访 5栋6单元601：老人在家，精神不错", ("5-6-601",), "老人在家，精神不错", VISIT),
    ("#走访 5幢601室 送了米和油", ("5-601",), "送了米和油", VISIT),
    ("#走访 5#601 在家", ("5-601",), "在家", VISIT),
    ("＃走访 ５－６０１ 一切正常", ("5-601",), "一切正常", VISIT),
    ("#走访：吴奶奶，今天上门，血压正常", ("吴奶奶",), "今天上门，血压正常", VISIT),
    ("#走访吴奶奶 药快吃完了，已联系女儿", ("吴奶奶",), "药快吃完了，已联系女儿", VISIT),
    ("#走访 1-1-601 吴奶奶 在家", ("1-1-601", "吴奶奶"), "在家", VISIT),
    ("#走访 5-601、5-101 都好", ("5-601", "5-101"), "都好", VISIT),
    ("#走访 5-601 阿姨说挺好", ("5-601",), "阿姨说挺好", VISIT),
    ("#走访 东头12号 陈伯在家看电视", ("东头12号", "陈伯"), "在家看电视", VISIT),
    ("#走访 老韦 腿脚不便，帮买了菜", ("老韦",), "腿脚不便，帮买了菜", VISIT),
    ("#上门 孙大爷家 身体好", ("孙大爷",), "身体好", VISIT),
    ("#电话回访 5-101 说一切都好", ("5-101",), "说一切都好", CALL),
    ("#走访 5-601 打了电话，说腿疼", ("5-601",), "打了电话，说腿疼", CALL),
    ("#走访 5-601 电话没人接，上门见到了", ("5-601",), "电话没人接，上门见到了", VISIT),
    ("#走访 已上门，一切都好", (), "已上门，一切都好", VISIT),
])
def test_visit_commands_as_people_write_them(text: str, targets: tuple[str, ...], note: str, kind: str) -> None:
    draft = parse_visit_command(text)
    assert draft is not None, text
    assert (draft.targets, draft.note, draft.kind) == (targets, note, kind)


def test_yesterdays_visit_and_a_photo_caption() -> None:
    draft = parse_visit_command("#走访 昨天 5-601 在家")
    assert draft is not None and draft.days_ago == 1 and draft.targets == ("5-601",)
    assert draft.at(at(2025, 3, 5)) == at(2025, 3, 4)
    caption = parse_visit_command("走访 林阿婆 送了米和油", photo=True)
    assert caption is not None and caption.targets == ("林阿婆",) and caption.photo
    assert parse_visit_command("走访 林阿婆 送了米和油") is None  # plain words are not a command


@pytest.mark.parametrize("text", ["5-601 已上门", "今天去走访了", "明天上门修水管", "#报修 5-601 水管漏了", ""])
def test_what_is_not_a_visit_command(text: str) -> None:
    assert parse_visit_command(text) is None


def test_addresses_are_normalised() -> None:
    assert normalise_address("5栋6单元601") == "5-6-601"
    assert normalise_address("05号楼 0601") == "5-0601"
    assert normalise_address("1-1-601") == "1-1-601"
    assert normalise_address("吴奶奶") is None


def test_targets_find_their_ledger_entries() -> None:
    assert [e.key for e in find_entries("5-601", LEDGER)] == ["lin"]  # the unit left out
    assert [e.key for e in find_entries("5-6-101", LEDGER)] == ["song"]  # the unit added
    assert [e.key for e in find_entries("吴奶奶", LEDGER)] == ["wu"]
    assert find_entries("5-602", LEDGER) == []
    draft = parse_visit_command("#走访 1-1-601 吴奶奶 在家")
    assert draft is not None
    found = resolve(draft, LEDGER)
    # the address names a household of two: ambiguous alone, but the name settles it and wu is recorded once
    assert [e.key for e in found.entries] == ["wu"] and found.ambiguous == () and found.unknown == ()
    both = resolve(parse_visit_command("#走访 何 在家 5-602"), LEDGER)  # type: ignore[arg-type]
    assert both.entries == ()
    many = resolve(parse_visit_command("#走访 1-1-601 在家"), LEDGER)  # type: ignore[arg-type]
    assert [t for t, _ in many.ambiguous] == ["1-1-601"]
    problem = visit_problem_text(resolve(parse_visit_command("#走访 5-602 在家"), LEDGER))  # type: ignore[arg-type]
    assert problem is not None and "5-602" in problem


def test_visit_acknowledgement() -> None:
    draft = parse_visit_command("#走访 5-601 已上门，身体好")
    assert draft is not None
    found = resolve(draft, LEDGER)
    assert visit_ack_text(found.entries, draft, at(2025, 3, 5)) == "已记录 3月5日 走访：5-6-601 林阿婆（已上门，身体好）。"


def test_overdue_visits_and_calls() -> None:
    now = at(2025, 3, 20)
    ledger = [
        entry("lin", "林阿婆", "5-6-601", every=timedelta(days=7)),
        entry("song", "宋老师", "5-101", every=timedelta(days=30)),
        entry("wu", "吴奶奶", "1-1-601", every=None, call=timedelta(days=3)),
        entry("new", "新来的", "2-301", since=at(2025, 3, 18)),
        entry("never", "没去过", "2-302"),
        entry("twice", "毛奶奶", "3-201", every=timedelta(hours=12)),
    ]
    visits = [
        Visit("lin", at(2025, 3, 10)),                 # 10 days ago: due on the 17th
        Visit("song", at(2025, 3, 1)),                 # fine until the 31st
        Visit("wu", at(2025, 3, 16), kind=CALL),       # call due on the 19th...
        Visit("twice", at(2025, 3, 20, 8)),            # seen this morning
        Visit("lin", at(2025, 3, 25)),                 # in the future: ignored
    ]
    late = overdue_visits(ledger, visits, now)
    assert [(o.entry.key, o.kind) for o in late] == [("never", VISIT), ("lin", VISIT), ("wu", CALL)]
    assert late[1].due == at(2025, 3, 17) and late[1].last == at(2025, 3, 10)
    # ...and a visit counts as a call
    assert all(o.entry.key != "wu" for o in overdue_visits(ledger, [*visits, Visit("wu", at(2025, 3, 19))], now))
    # twice a day: by evening the morning visit is not enough
    assert ("twice", VISIT) in [(o.entry.key, o.kind) for o in overdue_visits(ledger, visits, at(2025, 3, 20, 21))]
    text = overdue_text(late, now)
    assert "5-6-601 林阿婆：上次走访 3月10日，已超 3天" in text and "2-302 没去过：还没有走访记录" in text


def test_coverage_counts_households_in_the_month() -> None:
    ledger = [
        *LEDGER,
        entry("quarterly", "季访", "9-101", every=timedelta(days=90)),       # visited in January: due in April
        entry("later", "四月才建档", "9-102", since=at(2025, 4, 2)),
        entry("calls", "只打电话", "9-103", every=None, call=timedelta(days=7)),
    ]
    visits = [
        Visit("lin", at(2025, 3, 3)), Visit("lin", at(2025, 3, 20)),   # twice: one household
        Visit("wu2", at(2025, 3, 10)),                                   # the husband: the household is done
        Visit("chen", at(2025, 3, 31, 23)),                              # the last evening counts
        Visit("song", at(2025, 2, 28, 23)),                              # February's does not
        Visit("he", at(2025, 3, 5), kind=CALL),                          # a call is no visit
        Visit("quarterly", at(2025, 1, 10)),
    ]
    # due: lin, song, 1-1-601, chen, he, he2 = 6 households; done: lin, 1-1-601, chen = 3
    assert coverage(ledger, visits, date(2025, 3, 1)) == (6, 3)
    assert [e.key for e in unvisited(ledger, visits, date(2025, 3, 15))] == ["song", "he", "he2"]
    assert coverage(ledger, visits, date(2025, 4, 1)).due == 8  # the quarterly one and the new one join
    cov = coverage(ledger, visits, date(2025, 3, 1))
    assert coverage_text(cov) == "本月应访 6 户，已访 3 户（50%）"
    text = coverage_text(cov, label="3月", missing=unvisited(ledger, visits, date(2025, 3, 1)), show=2)
    assert text == "3月应访 6 户，已访 3 户（50%）；未访：5-101 宋老师、1-2-501 何爷爷 等 3 户"
