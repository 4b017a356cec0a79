"""The life of a ticket: a transition table, and who answers for a ticket at each escalation level.

new → accepted → resolved → closed, with reopened and cancelled; a ticket merged into another closes. Escalation is a level kept
alongside the state: it changes who answers, not where the ticket stands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.domain.grid import GridNode, GridTree, node_path
from bot.domain.people import Directory, Holder
from bot.domain.sla import SlaPolicy


class State(str, Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


class Action(str, Enum):
    ACCEPT = "accept"
    RESOLVE = "resolve"
    CONFIRM = "confirm"  # the reporter says it is fixed
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    REASSIGN = "reassign"
    MERGE = "merge"  # another reporter joined
    MERGE_INTO = "merge_into"  # a leader's #合并: this ticket is the same problem as another, and closes into it
    SPLIT = "split"  # a leader's #拆分: the latest joined reporter leaves for a ticket of their own
    ATTACH = "attach"  # a photo was attached


OPEN_STATES = frozenset({State.NEW, State.ACCEPTED, State.REOPENED})
ACTIVE_STATES = frozenset({State.NEW, State.ACCEPTED, State.REOPENED, State.RESOLVED})
WAITING_STATES = frozenset({State.NEW, State.REOPENED})  # nobody has (re)accepted it yet


def state_values(states: frozenset[State]) -> tuple[str, ...]:
    """The stored spellings of a set of states, in the enum's order (for SQL `IN` and string comparisons)."""
    return tuple(s.value for s in State if s in states)


OPEN_VALUES = state_values(OPEN_STATES)
ACTIVE_VALUES = state_values(ACTIVE_STATES)

# (state, action) → next state. Actions that leave the state alone map to the same state.
TRANSITIONS: Mapping[tuple[State, Action], State] = {
    (State.NEW, Action.ACCEPT): State.ACCEPTED,
    (State.REOPENED, Action.ACCEPT): State.ACCEPTED,
    (State.NEW, Action.RESOLVE): State.RESOLVED,
    (State.ACCEPTED, Action.RESOLVE): State.RESOLVED,
    (State.REOPENED, Action.RESOLVE): State.RESOLVED,
    (State.RESOLVED, Action.CONFIRM): State.CLOSED,
    (State.RESOLVED, Action.REOPEN): State.REOPENED,
    (State.CLOSED, Action.REOPEN): State.REOPENED,
    (State.NEW, Action.CLOSE): State.CLOSED,
    (State.ACCEPTED, Action.CLOSE): State.CLOSED,
    (State.REOPENED, Action.CLOSE): State.CLOSED,
    (State.RESOLVED, Action.CLOSE): State.CLOSED,
    (State.NEW, Action.CANCEL): State.CANCELLED,
    (State.ACCEPTED, Action.CANCEL): State.CANCELLED,
    (State.REOPENED, Action.CANCEL): State.CANCELLED,
    **{(s, Action.ESCALATE): s for s in OPEN_STATES},
    **{(s, Action.REASSIGN): s for s in OPEN_STATES},
    **{(s, Action.MERGE): s for s in ACTIVE_STATES},
    **{(s, Action.MERGE_INTO): State.CLOSED for s in ACTIVE_STATES},
    **{(s, Action.SPLIT): s for s in ACTIVE_STATES},
    **{(s, Action.ATTACH): s for s in State},
}

STATE_NAMES = {
    State.NEW: "待受理", State.ACCEPTED: "处理中", State.RESOLVED: "已办结待确认", State.CLOSED: "已关闭",
    State.REOPENED: "已重开", State.CANCELLED: "已撤销",
}


CATEGORY_NAMES = {
    "safety": "安全隐患", "sanitation": "环境卫生", "repair": "设施维修", "dispute": "邻里纠纷",
    "assistance": "帮扶求助", "security": "治安", "health": "医疗健康", "inquiry": "政策咨询", "other": "其他",
}
URGENCY_NAMES = {"urgent": "紧急", "normal": "一般", "low": "不急"}


class TransitionError(ValueError):
    """The action is not allowed in the ticket's current state."""

    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"cannot {action.value} a ticket that is {state.value}")
        self.state, self.action = state, action


def is_overdue(state: State | str, due_at: datetime | None, breached: bool, now: datetime) -> bool:
    """Open and past its deadline, measured against the original one (a breached ticket stays overdue after
    escalation set a new deadline) — the same rule as storage.ticket_repository.overdue_now."""
    if State(state) not in OPEN_STATES:
        return False
    return bool(breached) or (due_at is not None and due_at < now)


def next_state(state: State | str, action: Action | str) -> State:
    """The state after `action`, or TransitionError if the table does not allow it."""
    state, action = State(state), Action(action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state, action) from None


def allowed_actions(state: State | str) -> list[Action]:
    state = State(state)
    return [action for (s, action) in TRANSITIONS if s == state]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who answers for a ticket at its current level, and on which node."""

    holder: Holder | None
    node: GridNode
    level: int


def escalation_node(tree: GridTree, node_code: str, level: int) -> GridNode:
    """The node a ticket of `node_code` answers to at escalation `level` (0 = its own node)."""
    lineage = tree.lineage(node_code)
    return lineage[min(level, len(lineage) - 1)]


def max_level(tree: GridTree, node_code: str) -> int:
    """The highest escalation level: the top of the tree."""
    return len(tree.ancestor_codes(node_code))


def assign(directory: Directory, node_code: str, level: int, *, prefer_role: str | None = None) -> Assignment:
    """Who handles a ticket of `node_code` at `level`: the nearest handler at or above that tier.

    At level 0 a category's preferred role (e.g. security → 民警) is looked for first, up the whole lineage.
    """
    target = escalation_node(directory.tree, node_code, level)
    holder = None
    if prefer_role and level == 0:
        holder = directory.responsible(node_code, prefer_role=prefer_role)
        if holder is not None and holder.role != prefer_role:
            holder = None
    if holder is None:
        holder = directory.responsible(target.code)
        # at a higher level, skip someone who already answered below (the same person on two tiers)
        if holder is not None and level > 0:
            below = directory.responsible(escalation_node(directory.tree, node_code, level - 1).code)
            if below is not None and below.person.key == holder.person.key:
                parent = directory.tree.parent(holder.node.code)
                if parent is not None:
                    holder = directory.responsible(parent.code) or holder
    return Assignment(holder, target, level)


# -- what a step changes on a ticket ------------------------------------------------------------------

Changes = dict[str, Any]  # field name → new value, for the caller to set on its row


@dataclass(frozen=True, slots=True)
class TicketSnapshot:
    """The fields of a ticket a step reads (taken from a stored row, so planning needs no database)."""

    state: str
    urgency: str
    category: str
    created_at: datetime
    accepted_at: datetime | None = None
    resolve_seconds: int | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    next_check_at: datetime | None = None

    @classmethod
    def of(cls, ticket: Any) -> TicketSnapshot:
        """A snapshot of anything with the ticket's attributes (a stored row)."""
        return cls(state=ticket.state, urgency=ticket.urgency, category=ticket.category, created_at=ticket.created_at,
                   accepted_at=ticket.accepted_at, resolve_seconds=ticket.resolve_seconds, assignee=ticket.assignee,
                   due_at=ticket.due_at, next_check_at=ticket.next_check_at)


def plan_opening(tree: GridTree, node_code: str, *, category: str, urgency: str, text: str, location: Any,
                 problem_key: str | None, room_key: str | None, room_id: str | None, assignment: Assignment,
                 due_at: datetime) -> Changes:
    """The fields of a new ticket: what was reported where, who has it at which level, its first deadline."""
    loc, holder = location, assignment.holder
    return dict(
        state=State.NEW.value, category=category, urgency=urgency, node_code=node_code,
        node_path=node_path(tree, node_code), room_key=room_key, room_id=room_id,
        text=text, location=loc.to_dict() if hasattr(loc, "to_dict") else None,
        building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
        room_no=getattr(loc, "room", None), place=(getattr(loc, "place", None) or None), problem_key=problem_key,
        assignee=holder.person.key if holder else None, assignee_node=holder.node.code if holder else None,
        due_at=due_at, next_check_at=due_at, escalation_level=assignment.level,
    )


def plan_transition(ticket: TicketSnapshot, new_state: State, now: datetime, sla: SlaPolicy, *,
                    note: str = "") -> Changes:
    """What moving to `new_state` sets: the state, its timestamps and measured times, the next deadline."""
    changes: Changes = {"state": new_state.value, "updated_at": now}
    if new_state == State.ACCEPTED:
        if ticket.accepted_at is None:  # a reaccepted ticket keeps its first acceptance time
            changes["accepted_at"] = now
            changes["accept_seconds"] = int((now - ticket.created_at).total_seconds())
        # the resolve limit runs from the report, not from acceptance; never a deadline already past
        due = max(sla.deadline("resolve", ticket.urgency, ticket.category, ticket.created_at), now)
        changes.update(due_at=due, next_check_at=due)
    elif new_state == State.RESOLVED:
        changes.update(resolved_at=now, resolution=note or None, due_at=None, next_check_at=None)
        if ticket.resolve_seconds is None:
            changes["resolve_seconds"] = int((now - ticket.created_at).total_seconds())
    elif new_state in (State.CLOSED, State.CANCELLED):
        changes.update(closed_at=now, due_at=None, next_check_at=None)
    elif new_state == State.REOPENED:
        due = sla.deadline("accept", ticket.urgency, ticket.category, now)
        changes.update(resolved_at=None, closed_at=None, due_at=due, next_check_at=due)
    return changes


def plan_urgent(ticket: TicketSnapshot, now: datetime, sla: SlaPolicy) -> Changes:
    """A ticket a later report shows to be urgent ("+1 里面还有人被困"): urgent from now, its deadline the urgent limit
    of its stage (accept from now while nobody has taken it on, else resolve from the report), never later than it
    was, and checked again by then."""
    stage = escalation_stage(ticket.state)
    due = max(sla.deadline(stage, "urgent", ticket.category, now if stage == "accept" else ticket.created_at), now)
    if ticket.due_at is not None:
        due = min(due, ticket.due_at)
    check = due if ticket.next_check_at is None else min(ticket.next_check_at, due)
    return {"urgency": "urgent", "due_at": due, "next_check_at": check, "updated_at": now}


def escalation_stage(state: State | str) -> str:
    """Which limit an escalated ticket gets anew: 'accept' while nobody has taken it on, else 'resolve'."""
    return "accept" if State(state) in WAITING_STATES else "resolve"


def plan_escalation(ticket: TicketSnapshot, assignment: Assignment, limit: timedelta, now: datetime, *,
                    due: datetime | None = None) -> Changes:
    """What passing the ticket up sets: its level, its new owner (kept when nobody is found) and deadline
    (`due` when given, e.g. counted in working days, else `now + limit`)."""
    holder = assignment.holder
    due = now + limit if due is None else due
    return {"escalation_level": assignment.level, "escalated": True,
            "assignee": holder.person.key if holder else ticket.assignee,
            "assignee_node": holder.node.code if holder else assignment.node.code,
            "due_at": due, "next_check_at": due, "updated_at": now}


def plan_taken_on(directory: Directory, node_code: str, person_key: str, assignee: str | None,
                  now: datetime) -> Changes:
    """Who accepts a ticket holds it: a handler other than its assignee (a micro-grid leader taking on what had gone
    up to the grid) becomes the assignee, at the level of their nearest handling position over the ticket's node —
    the deadlines that follow are theirs, and a missed one goes up from there. Nothing changes for the assignee."""
    if person_key == assignee:
        return {}
    held = {code for code, role in directory.positions(person_key)
            if role in directory.roles and directory.roles[role].handles}
    for level, node in enumerate(directory.tree.lineage(node_code)):
        if node.code in held:
            return {"assignee": person_key, "assignee_node": node.code, "escalation_level": level, "updated_at": now}
    return {}


def plan_reassignment(holder: Holder, now: datetime) -> Changes:
    """What handing the ticket to someone else sets."""
    return {"assignee": holder.person.key, "assignee_node": holder.node.code, "updated_at": now}


# -- answers in chat ---------------------------------------------------------------------------------

# A handler's natural "I'm on it": 收到 马上去 / 好的我去看看 / 马上到 / 这就去 / 我来处理 / OK.
_ACCEPT_ANSWER = re.compile(
    r"^(?:收到|好的|好嘞|好滴|好|行|明白|了解|知道了|没问题|马上|立刻|立即|这就|我去|我来|我马上|我这就|在路上|ok|okay|👌|👍)",
    re.I)
# … but not a report of work done, a refusal or a question.
_NOT_ACCEPT = re.compile(r"好了|修好|办好|办完|弄好|搞定|解决|完成|已办|不去|去不了|没空|不行|不能|[?？吗]")
# WeChat's quote-reply as text: 「bot：quoted」 then a dashed line, then the answer.
_QUOTE = re.compile(r"^\s*「(?P<quoted>.*?)」\s*\n\s*[-－—\s]{5,}\n(?P<answer>.*)$", re.S)
_TICKET_NUMBER = re.compile(r"#\s*(\d{3,9})")


def split_quote(text: str) -> tuple[str | None, str]:
    """'「微格助手：工单 #1001 …」\\n- - - - -\\n收到' → ('微格助手：工单 #1001 …', '收到'); no quote → (None, text)."""
    match = _QUOTE.match(text or "")
    if match is None:
        return None, text or ""
    return match.group("quoted"), match.group("answer")


def quoted_ticket(quoted: str | None) -> int | None:
    """The ticket number a quoted bot message was about, if it names one."""
    match = _TICKET_NUMBER.search(quoted or "")
    return int(match.group(1)) if match else None


def is_acceptance(text: str) -> bool:
    """A short answer that takes a job on ('收到 马上去', '好的我去看看', '马上到'), not one that reports it done."""
    answer = re.sub(r"^(?:@\S+\s*)+", "", unicodedata.normalize("NFKC", text or "")).strip()
    if not answer or len(answer) > 30:
        return False
    return _ACCEPT_ANSWER.match(answer) is not None and _NOT_ACCEPT.search(answer) is None
