"""The ticket state machine, deadlines, quiet hours and who answers at each level."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.people import Directory
from bot.domain.sla import QuietHours, SlaPolicy, format_duration, parse_duration
from bot.domain.tickets import Action, State, TransitionError, allowed_actions, assign, max_level, next_state

TZ = ZoneInfo("Asia/Shanghai")


def test_happy_path_and_reopen():
    state = State.NEW
    for action, expected in ((Action.ACCEPT, State.ACCEPTED), (Action.RESOLVE, State.RESOLVED),
                             (Action.REOPEN, State.REOPENED), (Action.ACCEPT, State.ACCEPTED),
                             (Action.RESOLVE, State.RESOLVED), (Action.CONFIRM, State.CLOSED)):
        state = next_state(state, action)
        assert state == expected


@pytest.mark.parametrize(("state", "action"), [
    (State.CLOSED, Action.ACCEPT), (State.CANCELLED, Action.REOPEN), (State.RESOLVED, Action.ACCEPT),
    (State.NEW, Action.CONFIRM), (State.CLOSED, Action.ESCALATE), (State.CANCELLED, Action.RESOLVE),
])
def test_forbidden_transitions(state, action):
    with pytest.raises(TransitionError):
        next_state(state, action)


def test_escalation_keeps_the_state():
    assert next_state(State.ACCEPTED, Action.ESCALATE) == State.ACCEPTED
    assert Action.ESCALATE not in allowed_actions(State.RESOLVED)


def test_durations():
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration(30) == timedelta(minutes=30)
    with pytest.raises(ValueError):
        parse_duration("soon")
    assert format_duration(timedelta(minutes=30)) == "30分钟"
    assert format_duration(timedelta(hours=24)) == "24小时"
    assert format_duration(timedelta(days=3)) == "3天"


def test_default_limits_follow_the_issue():
    sla = SlaPolicy()
    start = datetime(2026, 11, 23, 9, tzinfo=TZ)
    assert sla.deadline("accept", "urgent", "safety", start) == start + timedelta(minutes=10)
    assert sla.deadline("accept", "normal", "repair", start) == start + timedelta(minutes=30)
    assert sla.deadline("resolve", "normal", "repair", start) == start + timedelta(hours=24)
    assert sla.deadline("accept", "low", "inquiry", start) == start + timedelta(hours=4)
    assert sla.deadline("resolve", "low", "inquiry", start) == start + timedelta(hours=72)
    custom = SlaPolicy(by_category={"safety": {"accept": timedelta(minutes=5)}})
    assert custom.limits_for("normal", "safety").accept == timedelta(minutes=5)
    assert custom.limits_for("normal", "safety").resolve == timedelta(hours=24)


def test_quiet_hours_cross_midnight_and_urgent_ignores_them():
    quiet = QuietHours(time(22), time(7), "Asia/Shanghai")
    late = datetime(2026, 11, 23, 23, 30, tzinfo=TZ)
    early = datetime(2026, 11, 24, 6, 59, tzinfo=TZ)
    day = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
    assert quiet.contains(late) and quiet.contains(early) and not quiet.contains(day)
    assert quiet.next_end(late) == datetime(2026, 11, 24, 7, 0, tzinfo=TZ)
    assert quiet.next_end(day) == day
    sla = SlaPolicy(quiet=quiet)
    assert sla.when_to_announce("urgent", late) == late
    assert sla.when_to_announce("normal", late) == datetime(2026, 11, 24, 7, 0, tzinfo=TZ)
    assert QuietHours.parse("off").contains(late) is False


def test_escalation_climbs_to_the_community(sample_config):
    directory = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    node = "JQS-02-01-A"  # a landlord group under the old village's east micro-grid
    assert max_level(sample_config.tree, node) == 3
    people = [assign(directory, node, level).holder.person.name for level in range(4)]
    assert people == ["陈老板", "徐大妈", "周强", "李红梅"]
    assert assign(directory, node, 0, prefer_role="民警").holder.person.name == "何警官"
