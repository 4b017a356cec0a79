"""The ticket state machine, deadlines, quiet hours and who answers at each level."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.grid import GridNode, Person, node_path
from bot.domain.parsing.parser import Location
from bot.domain.people import Directory, Holder
from bot.domain.sla import QuietHours, SlaPolicy, format_duration, parse_duration
from bot.domain.tickets import (
    OPEN_VALUES,
    Action,
    Assignment,
    State,
    TicketSnapshot,
    TransitionError,
    allowed_actions,
    assign,
    escalation_stage,
    max_level,
    next_state,
    plan_escalation,
    plan_opening,
    plan_reassignment,
    plan_taken_on,
    plan_transition,
    plan_urgent,
    state_values,
)

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


# -- what a step changes on a ticket ---------------------------------------------------------------------


CREATED = datetime(2026, 11, 23, 9, tzinfo=TZ)
SLA = SlaPolicy()


def snapshot(state: State, **fields) -> TicketSnapshot:
    return TicketSnapshot(state=state.value, urgency="normal", category="repair", created_at=CREATED, **fields)


def test_first_acceptance_measures_from_the_report_and_the_resolve_limit_runs_from_it_too():
    now = CREATED + timedelta(minutes=20)
    changes = plan_transition(snapshot(State.NEW), State.ACCEPTED, now, SLA)
    resolve_by = CREATED + SLA.limits_for("normal", "repair").resolve
    assert changes == {"state": "accepted", "updated_at": now, "accepted_at": now, "accept_seconds": 20 * 60,
                       "due_at": resolve_by, "next_check_at": resolve_by}


def test_a_reaccepted_ticket_keeps_its_first_acceptance_and_never_gets_a_deadline_already_past():
    first = CREATED + timedelta(minutes=5)
    now = CREATED + timedelta(days=3)  # long after the resolve limit
    changes = plan_transition(snapshot(State.REOPENED, accepted_at=first), State.ACCEPTED, now, SLA)
    assert "accepted_at" not in changes and "accept_seconds" not in changes
    assert changes["due_at"] == changes["next_check_at"] == now


def test_resolving_records_the_result_once_and_stops_the_clock():
    now = CREATED + timedelta(hours=2)
    changes = plan_transition(snapshot(State.ACCEPTED), State.RESOLVED, now, SLA, note="换了灯泡")
    assert changes == {"state": "resolved", "updated_at": now, "resolved_at": now, "resolution": "换了灯泡",
                       "resolve_seconds": 2 * 3600, "due_at": None, "next_check_at": None}
    again = plan_transition(snapshot(State.REOPENED, resolve_seconds=7200), State.RESOLVED, now, SLA)
    assert again["resolution"] is None and "resolve_seconds" not in again


@pytest.mark.parametrize("end", [State.CLOSED, State.CANCELLED])
def test_closing_or_cancelling_stops_the_clock(end):
    now = CREATED + timedelta(hours=1)
    assert plan_transition(snapshot(State.NEW), end, now, SLA) == {
        "state": end.value, "updated_at": now, "closed_at": now, "due_at": None, "next_check_at": None}


def test_reopening_clears_the_ends_and_gives_a_fresh_accept_deadline_from_now():
    now = CREATED + timedelta(days=1)
    accept_by = now + SLA.limits_for("normal", "repair").accept
    assert plan_transition(snapshot(State.RESOLVED), State.REOPENED, now, SLA) == {
        "state": "reopened", "updated_at": now, "resolved_at": None, "closed_at": None,
        "due_at": accept_by, "next_check_at": accept_by}


def test_escalation_moves_the_ticket_up_and_keeps_the_owner_when_nobody_is_found_there():
    street = GridNode("JQS", "金桥街道", "street", 0)
    chief = Holder(Person("li", "李红梅"), "书记", street)
    now = CREATED + timedelta(hours=1)
    limit = timedelta(minutes=30)
    found = plan_escalation(snapshot(State.NEW, assignee="chen"), Assignment(chief, street, 2), limit, now)
    assert found == {"escalation_level": 2, "escalated": True, "assignee": "li", "assignee_node": "JQS",
                     "due_at": now + limit, "next_check_at": now + limit, "updated_at": now}
    nobody = plan_escalation(snapshot(State.NEW, assignee="chen"), Assignment(None, street, 2), limit, now)
    assert nobody["assignee"] == "chen" and nobody["assignee_node"] == "JQS"
    assert plan_reassignment(chief, now) == {"assignee": "li", "assignee_node": "JQS", "updated_at": now}


def test_escalation_stage_and_state_spellings():
    assert [escalation_stage(s) for s in (State.NEW, State.REOPENED, State.ACCEPTED)] == [
        "accept", "accept", "resolve"]
    assert OPEN_VALUES == ("new", "accepted", "reopened")
    assert state_values(frozenset({State.CLOSED, State.NEW})) == ("new", "closed")


def test_a_new_ticket_starts_new_with_its_place_its_holder_and_one_deadline(sample_config):
    directory = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    node = "JQS-02-01-A"
    assignment = assign(directory, node, 0)
    due = CREATED + timedelta(minutes=30)
    fields = plan_opening(sample_config.tree, node, category="repair", urgency="normal", text="3号楼楼道灯坏了",
                          location=Location("3", None, None, "楼道"), problem_key="灯:坏", room_key="k",
                          room_id="r", assignment=assignment, due_at=due)
    assert fields["state"] == "new" and fields["node_path"] == node_path(sample_config.tree, node)
    assert (fields["building"], fields["unit"], fields["room_no"], fields["place"]) == ("3", None, None, "楼道")
    assert fields["location"] == {"building": "3", "unit": None, "room": None, "place": "楼道"}
    assert fields["assignee"] == assignment.holder.person.key and fields["assignee_node"] == assignment.holder.node.code
    assert fields["due_at"] == fields["next_check_at"] == due and fields["escalation_level"] == 0
    nobody = plan_opening(sample_config.tree, node, category="other", urgency="low", text="?", location=Location(),
                          problem_key=None, room_key=None, room_id=None, due_at=due,
                          assignment=Assignment(None, assignment.node, 3))
    assert nobody["assignee"] is None and nobody["assignee_node"] is None and nobody["place"] is None
    assert nobody["escalation_level"] == 3


def test_a_ticket_made_urgent_gets_the_urgent_limit_of_its_stage_never_a_later_one():
    now = CREATED + timedelta(minutes=3)
    accept = SLA.limits_for("urgent", "repair").accept
    waiting = plan_urgent(snapshot(State.NEW, due_at=CREATED + timedelta(hours=2),
                                   next_check_at=CREATED + timedelta(hours=2)), now, SLA)
    assert waiting == {"urgency": "urgent", "due_at": now + accept, "next_check_at": now + accept, "updated_at": now}
    # taken on already: the urgent resolve limit, counted from the report
    taken = plan_urgent(snapshot(State.ACCEPTED, due_at=CREATED + timedelta(days=3)), now, SLA)
    assert taken["due_at"] == CREATED + SLA.limits_for("urgent", "repair").resolve == taken["next_check_at"]
    # a deadline already sooner stays, and a check already due sooner stays too
    soon = CREATED + timedelta(minutes=5)
    kept = plan_urgent(snapshot(State.NEW, due_at=soon, next_check_at=CREATED + timedelta(minutes=4)), now, SLA)
    assert kept["due_at"] == soon and kept["next_check_at"] == CREATED + timedelta(minutes=4)
    # past the urgent resolve limit already: due now, not in the past
    late = CREATED + timedelta(days=5)
    assert plan_urgent(snapshot(State.ACCEPTED, due_at=None), late, SLA)["due_at"] == late


def test_who_accepts_holds_it_at_their_own_level(sample_config):
    directory = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    node, now = "JQS-02-01-A", CREATED
    assert plan_taken_on(directory, node, "fd_chen", "fd_chen", now) == {}  # the holder: nothing changes
    taken = plan_taken_on(directory, node, "fd_chen", "xu_dama", now)  # the landlord takes back what went up
    assert taken == {"assignee": "fd_chen", "assignee_node": node, "escalation_level": 0, "updated_at": now}
    up = plan_taken_on(directory, node, "xu_dama", "fd_chen", now)  # the micro-grid leader takes it on herself
    assert up["assignee"] == "xu_dama" and up["assignee_node"] == "JQS-02-01" and up["escalation_level"] == 1
    assert plan_taken_on(directory, node, "nobody_here", "fd_chen", now) == {}  # no handling position above it
