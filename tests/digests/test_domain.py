"""Periods, schedules, recipients, masking and the digest's wording: pure, no database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import (
    DigestFigures,
    NoticeFigures,
    Schedule,
    TicketFigures,
    calendar_period,
    due_fires,
    format_digest,
    mask_personal,
    recipients,
)

TZ = ZoneInfo("Asia/Shanghai")


def local(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def test_calendar_periods_are_local_days_and_monday_weeks():
    day = calendar_period("day", date(2026, 11, 22), TZ)
    assert (day.start, day.end) == (local(22, 0), local(23, 0))
    week = calendar_period("week", date(2026, 11, 22), TZ)  # a Sunday
    assert (week.start, week.end) == (local(16, 0), local(23, 0))
    assert week.previous().start == local(9, 0)
    assert day.label(TZ) == "11月22日" and week.label(TZ) == "11月16日至11月22日"
    with pytest.raises(ValueError):
        calendar_period("month", date(2026, 11, 22), TZ)


@pytest.mark.parametrize("kind, text, at, weekday", [
    ("day", "18:00", time(18, 0), None), ("day", "7:05", time(7, 5), None),
    ("week", "mon 08:00", time(8, 0), 0), ("week", "Friday 17:30", time(17, 30), 4)])
def test_schedules_parse(kind, text, at, weekday):
    schedule = Schedule.parse(kind, text)
    assert (schedule.at, schedule.weekday) == (at, weekday)


@pytest.mark.parametrize("kind, text", [("day", "25:00"), ("day", "mon 08:00"), ("week", "08:00"),
                                        ("week", "xyz 08:00"), ("day", "six pm")])
def test_bad_schedules_are_refused(kind, text):
    with pytest.raises(ValueError):
        Schedule.parse(kind, text)


def test_last_and_next_fire():
    daily, weekly = Schedule.parse("day", "18:00"), Schedule.parse("week", "mon 08:00")
    assert daily.last_fire(local(22, 17, 59), TZ) == local(21, 18)
    assert daily.last_fire(local(22, 18), TZ) == local(22, 18)
    assert daily.next_fire(local(22, 18), TZ) == local(23, 18)
    assert weekly.last_fire(local(23, 9), TZ) == local(23, 8)  # 2026-11-23 is a Monday
    assert weekly.last_fire(local(23, 7), TZ) == local(16, 8)
    assert weekly.period_ending(local(23, 8)).start == local(16, 8)


def test_a_missed_digest_is_due_only_within_the_grace_period():
    daily = Schedule.parse("day", "18:00")
    grace = timedelta(hours=6)
    assert due_fires([daily], local(22, 19), TZ, grace) == [(daily, local(22, 18))]
    assert due_fires([daily], local(23, 0), TZ, grace) == [(daily, local(22, 18))]
    assert due_fires([daily], local(23, 0, 1), TZ, grace) == []


def test_recipients_are_secretaries_for_the_community_and_leaders_for_their_grid(sample_config):
    found = recipients(sample_config.tree, sample_config.people, secretary_roles=("社区书记", "社区主任"),
                       leader_roles=("网格长",), room=None)
    assert {(r.key, r.node_code, r.to_kind, r.to_id) for r in found} == {
        ("li_hongmei", "JQS", "contact", "wxid_lihongmei"), ("wang_jianguo", "JQS", "contact", "wxid_wangjianguo"),
        ("chen_li", "JQS-01", "contact", "wxid_chenli"), ("zhou_qiang", "JQS-02", "contact", "wxid_zhouqiang"),
        ("wu_saifen", "JQS-03", "contact", "wxid_wusaifen")}
    group = recipients(sample_config.tree, sample_config.people, secretary_roles=("社区书记",), leader_roles=(),
                       room="江桥社区工作群")
    assert [(r.key, r.to_kind, r.to_id) for r in group] == [("room:江桥社区工作群", "room", "江桥社区工作群")]


@pytest.mark.parametrize("text, masked", [
    ("电话13812345678", "电话138****5678"),
    ("打 138 1234 5678 或 139-8765-4321", "打 138****5678 或 139****4321"),
    ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
    ("身份证110101199003071234", "身份证110***********1234"),
    ("证件号44030419800101123X号", "证件号440***********123X号"),
    ("工单 #1024 在 3-1-201，户号 20231122", "工单 #1024 在 3-1-201，户号 20231122"),
    ("12345678901234567890 是订单号", "12345678901234567890 是订单号"),
])
def test_personal_numbers_are_masked(text, masked):
    assert mask_personal(text) == masked


def test_digests_use_the_one_masking_function():
    from bot.domain import digest, privacy

    assert digest.mask_personal is privacy.mask_personal


def test_the_wording_fits_a_phone_and_shows_trends():
    period = calendar_period("day", date(2026, 11, 22), TZ)
    now = DigestFigures("JQS", "江桥社区", period, TicketFigures(new=12, resolved=9, judged=9, on_time=8,
                                                                   own_level=7, escalated=2, accept_median=900),
                        NoticeFigures())
    before = DigestFigures("JQS", "江桥社区", period.previous(), TicketFigures(new=15, accept_median=1500),
                           NoticeFigures())
    text = format_digest(now, before, TZ)
    assert "新增 12 ↓3" in text
    assert "受理用时中位 15分钟 ↓10分钟" in text
    assert "按时办结 89%（8/9）" in text
    assert "本级办结 7（78%）｜上报办结 2（22%）" in text
    assert max(len(line) for line in text.splitlines()) <= 40
    assert "↑" not in format_digest(now, None, TZ)
