"""Care for residents who need it (关爱台账, 必访, 每日报平安, 走访) — pure: no database, transport or clock.

Ledger (`ledger.py`)
    CareEntry(key, name, node_code, address, kinds, responsible, visit_every, call_every, notes, family,
    check_in, since); Relative(contact, name, relation) for a family proxy.
    check_kinds(kinds, allowed) / check_entry(entry, allowed_kinds, tree) → CareError in Chinese.
    may_see_care(positions, node_code, tree, duty_roles) — positions are Directory.positions(person):
    (node code, role) pairs; true when a duty role is held on the node or above.
    may_see_entry(entry, viewer, positions, tree, duty_roles) also lets the entry's responsible person in;
    visible_entries(...) filters a list.

Daily check-in (`checkin.py`, `pauses.py`)
    CheckInPlan(subject, at=09:00, answer_by=11:00, first_escalation, second_escalation, second_after=30m,
    ticket_after=30m, ...); plan_for(entry, tree) builds one (楼道长 else 微网格长; family then 网格长).
    next_step(plan, day, now, replies, pauses, steps_done, holidays=) → Step(kind, due, recipients, reply,
    pause) with kind WAIT / PROMPT / LOOK_IN / ALERT / TICKET / ANSWERED / PAUSED; steps_done maps a
    StepKind to when it was done. Reply(at, kind, text, by_subject): any message type counts
    (counts_as_reply). parse_pause(text, today) → Pause(start, end, reason, said_on) | None;
    active_pause(...) says whether a reply has ended one.

Visits (`visits.py`)
    parse_visit_command(text, photo=) → VisitDraft(targets, note, kind visit|call, days_ago, photo) | None;
    resolve(draft, entries) → Resolved(entries, unknown, ambiguous); Visit(entry_key, at, kind, by, note);
    overdue_visits(entries, visits, now) → [Overdue(entry, kind, last, due)];
    coverage(entries, visits, month) → Coverage(due, done) in households; unvisited(...) lists the rest.

Wording (`wording.py`): prompt_text, look_in_text, alert_text, ticket_title/ticket_text, answered_text,
pause_ack_text, holiday_text, visit_ack_text, visit_problem_text, visit_usage_text, overdue_text,
coverage_text.
"""

from bot.domain.care.checkin import (CheckInPlan, Reply, Step, StepKind, active_pause, counts_as_reply,
                                     next_step, plan_for)
from bot.domain.care.ledger import (DEFAULT_DUTY_ROLES, DEFAULT_KINDS, CareEntry, CareError, Relative,
                                    check_entry, check_kinds, first_responders, may_see_care, may_see_entry,
                                    visible_entries)
from bot.domain.care.pauses import Pause, holiday_pause, parse_pause
from bot.domain.care.visits import (CALL, VISIT, Coverage, Overdue, Resolved, Visit, VisitDraft, coverage,
                                    find_entries, normalise_address, overdue_visits, parse_visit_command,
                                    resolve, unvisited)

__all__ = [
    "CALL", "DEFAULT_DUTY_ROLES", "DEFAULT_KINDS", "VISIT", "CareEntry", "CareError", "CheckInPlan", "Coverage",
    "Overdue", "Pause", "Relative", "Reply", "Resolved", "Step", "StepKind", "Visit", "VisitDraft",
    "active_pause", "check_entry", "check_kinds", "counts_as_reply", "coverage", "find_entries",
    "first_responders", "holiday_pause", "may_see_care", "may_see_entry", "next_step", "normalise_address",
    "overdue_visits", "parse_pause", "parse_visit_command", "plan_for", "resolve", "unvisited",
    "visible_entries",
]
