"""Pure notice logic without a database: the #通知 syntax, deadlines, planning over the tree, ack roll-ups."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.acks import RoomAcks, household_key, lagging, roll_up, to_remind
from bot.domain.fanout import NoticeSyntaxError, Target, by_tier, chunk_mentions, parse_draft, plan_fanout

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday morning
TIERS = ("社区", "网格", "微网格", "楼道", "房东群")


def draft(text, now=NOW):
    return parse_draft(text, now=now, tz=TZ, tiers=TIERS)


def at(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize("text, deadline, body", [
    ("截止 12月20日 请登记", at(2026, 12, 20, 23, 59), "请登记"),
    ("截止 12月20日18点 请登记", at(2026, 12, 20, 18, 0), "请登记"),
    ("截止 明天18点 停水", at(2026, 11, 24, 18, 0), "停水"),
    ("截止 今晚8点 开会", at(2026, 11, 23, 20, 0), "开会"),
    ("截止 今晚8点半 开会", at(2026, 11, 23, 20, 30), "开会"),
    ("截止 今晚12点 开会", at(2026, 11, 23, 23, 59), "开会"),
    ("截止 明天下午三点 开会", at(2026, 11, 24, 15, 0), "开会"),
    ("截止 明天中午1点 x", at(2026, 11, 24, 13, 0), "x"),
    ("截止 明天上午十点一刻 x", at(2026, 11, 24, 10, 15), "x"),
    ("截止 后天 x", at(2026, 11, 25, 23, 59), "x"),
    ("截止12月20日前 登记", at(2026, 12, 20, 23, 59), "登记"),
    ("截至 周五 x", at(2026, 11, 27, 23, 59), "x"),
    ("截止 本周一 x", at(2026, 11, 23, 23, 59), "x"),
    ("截止 周一 x", at(2026, 11, 30, 23, 59), "x"),  # a bare weekday said on that day means next week's
    ("截止 下周一 x", at(2026, 11, 30, 23, 59), "x"),
    ("截止 11-30 18:00 x", at(2026, 11, 30, 18, 0), "x"),
    ("截止: 1/5 x", at(2027, 1, 5, 23, 59), "x"),  # a month already past is next year's
    ("截止 2027年1月5日 x", at(2027, 1, 5, 23, 59), "x"),
    ("截止 18点 x", at(2026, 11, 23, 18, 0), "x"),
    ("请各户检查燃气软管，截止 明天18点", at(2026, 11, 24, 18, 0), "请各户检查燃气软管"),
    ("请登记（截止12月20日）", at(2026, 12, 20, 23, 59), "请登记"),
])
def test_deadline_phrases(text, deadline, body):
    d = draft(text)
    assert (d.deadline, d.text) == (deadline, body)


def test_a_time_alone_that_passed_today_means_tomorrow():
    assert draft("截止 8点 x", now=at(2026, 11, 23, 19, 0)).deadline == at(2026, 11, 24, 8, 0)


@pytest.mark.parametrize("text", ["截止 2月30日 x", "截止 明天25点 x", "截止 明天18:75 x", "截止 13月2日 x",
                                  "截止 今天8点 x", "截止 明天", "   "])
def test_bad_deadlines_and_empty_notices_are_refused_with_a_hint(text):
    with pytest.raises(NoticeSyntaxError) as caught:
        draft(text)
    assert any(word in str(caught.value) for word in ("截止", "写法", "过了"))


def test_text_that_only_looks_like_a_deadline_is_text():
    d = draft("截至目前已有八成住户完成登记")
    assert d.deadline is None and d.text == "截至目前已有八成住户完成登记"


def test_options_in_any_order():
    d = draft("紧急 只发房东群 截止 明天8点 燃气检修")
    assert d.urgent and d.target == Target(tier="房东群") and d.deadline == at(2026, 11, 24, 8, 0)
    d = draft("只发 JQS-02,JQS-03 只发楼道群 x")
    assert d.target == Target(children=("JQS-02", "JQS-03"), tier="楼道")
    assert draft("只发 JQS-02-0* x").target == Target(prefix="JQS-02-0")


def test_plan_covers_the_subtree_in_tree_order(sample_config):
    tree = sample_config.tree
    everything = plan_fanout(tree, "JQS", Target(), include_origin=False)
    expected = [r.key for code in tree.descendant_codes("JQS") if code != "JQS" for r in tree.node(code).rooms]
    assert [d.room_key for d in everything] == expected
    assert len({d.tier for d in everything}) == 4  # 网格 … 房东群 below the community
    assert dict(by_tier(everything, tree.tiers)) == {
        t: sum(1 for d in everything if d.tier == t) for t in tree.tiers if t != "社区"}
    with_origin = plan_fanout(tree, "JQS", Target(), include_origin=True)
    assert len(with_origin) == len(everything) + len(tree.node("JQS").rooms)


def test_plan_targets_by_tier_child_name_and_prefix(sample_config):
    tree = sample_config.tree
    landlords = plan_fanout(tree, "JQS", Target(tier="房东群"), include_origin=False)
    assert landlords and {d.tier for d in landlords} == {"房东群"}
    by_code = plan_fanout(tree, "JQS", Target(children=("JQS-03",)), include_origin=False)
    assert by_code and all(d.node_code.startswith("JQS-03") for d in by_code)
    by_name = plan_fanout(tree, "JQS", Target(children=(tree.node("JQS-03").name,)), include_origin=False)
    assert by_name == by_code
    prefix = plan_fanout(tree, "JQS", Target(prefix="JQS-01-01"), include_origin=False)
    assert prefix and all(d.node_code.startswith("JQS-01-01") for d in prefix)


def test_plan_refuses_nodes_outside_the_senders_subtree(sample_config):
    tree = sample_config.tree
    for outside in ("JQS-02", "JQS-01", "不存在的网格"):
        with pytest.raises(NoticeSyntaxError):
            plan_fanout(tree, "JQS-01", Target(children=(outside,)), include_origin=False)


def test_mentions_are_chunked():
    names = [(f"id{i}", f"n{i}") for i in range(45)]
    chunks = chunk_mentions(names, 20)
    assert [len(c) for c in chunks] == [20, 20, 5] and [p for c in chunks for p in c] == names


def room(key, tier, members, acked, households, acked_households):
    return RoomAcks(key, tier, members, acked, households, acked_households)


def test_roll_up_per_tier_counts_members_households_and_complete_groups():
    rooms = [room("a", "楼道", 10, 10, 8, 8), room("b", "楼道", 6, 2, 5, 2), room("c", "房东群", 4, 1, 2, 1),
             room("d", "物业", 3, 0, 3, 0)]
    tiers = roll_up(rooms, TIERS)
    assert [(t.tier, t.rooms, t.members, t.acked, t.households, t.acked_households, t.complete_rooms)
            for t in tiers] == [("楼道", 2, 16, 12, 13, 10, 1), ("房东群", 1, 4, 1, 2, 1, 0), ("其他", 1, 3, 0, 3, 0, 0)]
    assert "2 个群（1 个已全部回复），12/16 人、10/13 户已回复" in tiers[0].line()


def test_reminders_and_lagging_go_by_household():
    # one representative per household is enough: 2 of 4 people but 2 of 2 households is complete
    rooms = [room("full", "房东群", 4, 2, 2, 2), room("half", "房东群", 4, 2, 4, 2), room("none", "楼道", 5, 0, 5, 0),
             room("empty", "楼道", 0, 0, 0, 0)]
    assert [r.room_key for r in to_remind(rooms, 0.8)] == ["half", "none"]
    assert [r.room_key for r in to_remind(rooms, 0.5)] == ["none"]
    assert [r.room_key for r in lagging(rooms, 10)] == ["none", "half"]
    assert [r.room_key for r in lagging(rooms, 1)] == ["none"]


def test_household_key_falls_back_to_the_member():
    assert household_key("wx1", "3-201") == "3-201"
    assert household_key("wx1", None) != household_key("wx2", None)
