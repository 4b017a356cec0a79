"""The duty roster: weekly shifts across midnight, exceptions winning, walking up the tree, #值班 wording, parsing."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.domain.duty import Roster, parse_roster, tonight_text
from bot.domain.grid import GridNode, GridTree

TZ = ZoneInfo("Asia/Shanghai")
NAMES = {"zhang": "张三", "li": "李四", "wang": "王五", "zhao": "赵六"}.__getitem__

# 2027-02-08 is a Monday, 2027-02-10 a Wednesday.
SAMPLE = {
    "node": "JQS-04",
    "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"}],
    "exceptions": [{"date": "2027-02-10", "from": "00:00", "to": "24:00", "person": "li"}],
}


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def roster(*entries: dict[str, object]) -> Roster:
    return parse_roster(list(entries))


def test_a_night_shift_runs_into_the_next_morning() -> None:
    r = roster({"node": "A", "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"}]})
    assert r.on_duty("A", at(2027, 2, 12, 23)) == "zhang"  # Friday night
    assert r.on_duty("A", at(2027, 2, 13, 7, 59)) == "zhang"  # Saturday morning, Friday's shift
    assert r.on_duty("A", at(2027, 2, 13, 8)) is None
    assert r.on_duty("A", at(2027, 2, 13, 20)) is None  # Saturday is not in 1-5
    assert r.on_duty("A", at(2027, 2, 15, 3)) is None  # Monday 03:00 would be Sunday's shift
    assert r.on_duty("A", at(2027, 2, 16, 3)) == "zhang"  # Tuesday 03:00 is Monday's
    assert r.on_duty("A", at(2027, 2, 15, 17, 59)) is None
    assert r.on_duty("A", at(2027, 2, 15, 18)) == "zhang"


def test_sunday_night_runs_into_monday_and_a_24_hour_shift() -> None:
    r = roster(
        {"node": "A", "weekly": [{"days": 7, "from": "20:00", "to": "08:00", "person": "wang"}]},
        {"node": "B", "weekly": [{"days": "每天", "from": "08:00", "to": "08:00", "person": "zhao"}]},
    )
    assert r.on_duty("A", at(2027, 2, 15, 6)) == "wang"  # Monday 06:00
    assert r.on_duty("A", at(2027, 2, 14, 19)) is None
    assert all(r.on_duty("B", at(2027, 2, 8 + n, h)) == "zhao" for n in range(7) for h in (0, 7, 8, 23))


def test_the_moment_is_read_in_the_rosters_timezone() -> None:
    r = roster({"node": "A", "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"}]})
    assert r.on_duty("A", datetime(2027, 2, 8, 11, tzinfo=timezone.utc)) == "zhang"  # 19:00 in Shanghai
    assert r.on_duty("A", datetime(2027, 2, 8, 9, tzinfo=timezone.utc)) is None  # 17:00
    with pytest.raises(ValueError, match="timezone-aware"):
        r.on_duty("A", datetime(2027, 2, 8, 19))


def test_an_exception_wins_where_it_covers_and_only_there() -> None:
    r = parse_roster(SAMPLE)
    assert r.on_duty("JQS-04", at(2027, 2, 10, 3)) == "li"  # would be Tuesday night's zhang
    assert r.on_duty("JQS-04", at(2027, 2, 10, 12)) == "li"  # would be nobody
    assert r.on_duty("JQS-04", at(2027, 2, 10, 20)) == "li"
    assert r.on_duty("JQS-04", at(2027, 2, 11, 3)) == "zhang"  # Wednesday's shift goes on after midnight
    assert r.on_duty("JQS-04", at(2027, 2, 9, 3)) == "zhang"


def test_an_exception_over_several_days_across_midnight() -> None:
    r = roster({"node": "A", "weekly": [{"days": "1-7", "from": "20:00", "to": "08:00", "person": "zhang"}],
                "exceptions": [{"date": "2027-02-06..2027-02-07", "from": "20:00", "to": "08:00", "person": "wang"}]})
    assert r.on_duty("A", at(2027, 2, 7, 7)) == "wang"
    assert r.on_duty("A", at(2027, 2, 8, 7)) == "wang"  # the 7th's exception ends on the 8th at 08:00
    assert r.on_duty("A", at(2027, 2, 8, 21)) == "zhang"
    assert r.on_duty("A", at(2027, 2, 6, 7)) == "zhang"  # the 5th's weekly shift


def test_fallback_when_nobody_is_on_duty() -> None:
    r = parse_roster(SAMPLE)
    assert r.on_duty_or("JQS-04", at(2027, 2, 8, 12), "chen_li") == "chen_li"
    assert r.on_duty_or("JQS-04", at(2027, 2, 8, 19), "chen_li") == "zhang"
    assert r.on_duty_or("JQS-05", at(2027, 2, 8, 19), "chen_li") == "chen_li"


def _tree() -> GridTree:
    return GridTree(["社区", "网格", "微网格"], [
        GridNode("JQS", "江桥社区", "社区", 0),
        GridNode("JQS-01", "第一网格", "网格", 1, parent="JQS"),
        GridNode("JQS-01-01", "1号楼", "微网格", 2, parent="JQS-01"),
    ])


def test_the_lookup_walks_up_the_tree() -> None:
    tree = _tree()
    parent_of = lambda code: tree.node(code).parent  # noqa: E731
    r = roster(
        {"node": "JQS", "weekly": [{"days": "1-7", "from": "00:00", "to": "24:00", "person": "wang"}]},
        {"node": "JQS-01", "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"}]},
    )
    assert r.on_duty("JQS-01-01", at(2027, 2, 8, 19)) is None  # no roster of its own
    assert r.find_on_duty("JQS-01-01", at(2027, 2, 8, 19), parent_of) == ("JQS-01", "zhang")
    assert r.find_on_duty("JQS-01-01", at(2027, 2, 8, 12), parent_of) == ("JQS", "wang")  # the grid has nobody then
    assert r.nearest("JQS-01-01", parent_of) == "JQS-01"
    nobody = roster({"node": "JQS-01", "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"}]})
    assert nobody.find_on_duty("JQS-01-01", at(2027, 2, 8, 12), parent_of) is None
    assert nobody.nearest("JQS", parent_of) is None


def test_tonight_and_its_reply() -> None:
    r = roster({"node": "A", "weekly": [{"days": "1-5", "from": "20:00", "to": "08:00", "person": "zhang"}]})
    slots = r.tonight("A", date(2027, 2, 8))
    assert [(s.start, s.end, s.person) for s in slots] == [(at(2027, 2, 8, 20), at(2027, 2, 9, 8), "zhang")]
    assert tonight_text(slots, date(2027, 2, 8), NAMES) == "今晚值班：张三（20:00–次日08:00）"
    assert r.tonight("A", date(2027, 2, 13)) == []
    assert tonight_text([], date(2027, 2, 13), NAMES, node_name="1号楼") == "1号楼今晚没有安排值班。"


def test_tonight_shows_the_exception_cutting_into_the_week() -> None:
    r = parse_roster(SAMPLE)
    day = date(2027, 2, 10)
    slots = r.tonight("JQS-04", day)
    assert [(s.start, s.end, s.person) for s in slots] == [
        (at(2027, 2, 10), at(2027, 2, 11), "li"),
        (at(2027, 2, 11), at(2027, 2, 11, 8), "zhang"),
    ]
    assert tonight_text(slots, day, NAMES) == "今晚值班：李四（00:00–24:00）、张三（次日00:00–次日08:00）"


def test_two_shifts_in_one_night_and_adjacent_pieces_merge() -> None:
    r = roster({"node": "A", "weekly": [
        {"days": "1-7", "from": "18:00", "to": "22:00", "person": "li"},
        {"days": "1-7", "from": "22:00", "to": "24:00", "person": "zhang"},
        {"days": "1-7", "from": "00:00", "to": "08:00", "person": "zhang"},
    ]})
    slots = r.tonight("A", date(2027, 2, 8))
    assert tonight_text(slots, date(2027, 2, 8), NAMES) == "今晚值班：李四（18:00–22:00）、张三（22:00–次日08:00）"


def test_unquoted_yaml_times_and_dates() -> None:
    data = yaml.safe_load("""
- node: JQS-04
  weekly:
    - {days: 1-5, from: 18:00, to: 08:00, person: zhang}
  exceptions:
    - {date: 2027-02-10, from: 0:00, to: 24:00, person: li}
""")
    assert data[0]["weekly"][0]["from"] == 1080  # YAML 1.1 sexagesimal: what the parser must accept
    r = parse_roster(data)
    assert r.on_duty("JQS-04", at(2027, 2, 8, 18)) == "zhang"
    assert r.on_duty("JQS-04", at(2027, 2, 10, 12)) == "li"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekly": [{"days": "1-8", "from": "18:00", "to": "08:00", "person": "zhang"}]}, "duty[0].weekly[0].days"),
        ({"weekly": [{"days": "5-1", "from": "18:00", "to": "08:00", "person": "zhang"}]}, "duty[0].weekly[0].days"),
        ({"weekly": [{"days": "1-5", "from": "25:00", "to": "08:00", "person": "zhang"}]}, "duty[0].weekly[0].from"),
        ({"weekly": [{"days": "1-5", "from": "24:00", "to": "08:00", "person": "zhang"}]}, "duty[0].weekly[0].from"),
        ({"weekly": [{"days": "1-5", "from": "18:00", "to": "8点", "person": "zhang"}]}, "duty[0].weekly[0].to"),
        ({"weekly": [{"days": "1-5", "from": "18:00", "person": "zhang"}]}, "duty[0].weekly[0].to"),
        ({"weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "nobody"}]}, "duty[0].weekly[0].person"),
        ({"weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang", "who": 1}]},
         "duty[0].weekly[0].who"),
        ({"weekly": {"days": "1-5"}}, "duty[0].weekly"),
        ({"weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": "zhang"},
                     {"days": "6", "from": "07:00", "to": "09:00", "person": "li"}]}, "duty[0].weekly[1]"),
        ({"weekly": [{"days": "1", "from": "07:00", "to": "09:00", "person": "li"},
                     {"days": "7", "from": "20:00", "to": "08:00", "person": "zhang"}]}, "duty[0].weekly[1]"),
        ({"exceptions": [{"date": "2027-02-30", "from": "00:00", "to": "24:00", "person": "li"}]},
         "duty[0].exceptions[0].date"),
        ({"exceptions": [{"date": "2027-02-10", "from": "00:00", "to": "24:00", "person": "li"},
                         {"date": "2027-02-10", "from": "20:00", "to": "08:00", "person": "zhang"}]},
         "duty[0].exceptions[1]"),
        ({"node": "NOPE"}, "duty[0].node"),
        ({"node": ""}, "duty[0].node"),
        ({"weekly": [], "exceptions": []}, "duty[0]"),
        ({"shifts": []}, "duty[0].shifts"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], field: str) -> None:
    entry = {**SAMPLE, **change}
    with pytest.raises(ValueError) as caught:
        parse_roster([entry], people={"zhang", "li"}, nodes={"JQS-04"})
    assert str(caught.value).startswith(field + ":") or str(caught.value).startswith(field + " ")


def test_the_good_entry_of_the_bad_input_test_parses() -> None:
    parse_roster([SAMPLE], people={"zhang", "li"}, nodes={"JQS-04"})  # so the cases above fail for their change


def test_a_node_with_two_rosters_and_data_that_is_not_a_list() -> None:
    with pytest.raises(ValueError, match=r"^duty\[1\]\.node: 'JQS-04' already has a roster at duty\[0\]"):
        parse_roster([SAMPLE, SAMPLE])
    with pytest.raises(ValueError, match=r"^duty: expected a list"):
        parse_roster("JQS-04")
    with pytest.raises(ValueError, match=r"^duty\[0\]: expected a mapping"):
        parse_roster(["JQS-04"])
