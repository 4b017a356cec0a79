"""What the console, the JSON API and Open311 share: the ticket query behind lists and exports, ticket actions
and notices taken exactly as the chat commands take them, and the outbox for what the desks say to groups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain.grid import GridNode, GridTree, node_path
from bot.domain.tickets import CATEGORY_NAMES, STATE_NAMES, URGENCY_NAMES, Action, State, allowed_actions
from bot.messages import Address, Reply
from bot.work import Work, perform
from bot.web.accounts import WebUser
from bot.web.forms import bad_request, clean
from bot.tickets import wording
from storage.models import TicketRow
from storage.notice_repository import NoticeRepository
from storage.ticket_repository import TicketRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot

ACTIONS = {"accept": ("受理", Action.ACCEPT), "resolve": ("办结", Action.RESOLVE), "reassign": ("转派", Action.REASSIGN),
           "escalate": ("上报", Action.ESCALATE), "close": ("关闭", Action.CLOSE), "reopen": ("重开", Action.REOPEN)}
STATES = tuple(s.value for s in State)
FILTERS = ("state", "category", "urgency", "node", "overdue", "q", "from", "to")
_STATE_NAMES: dict[str, str] = {state.value: name for state, name in STATE_NAMES.items()}


def state_name(state: str) -> str:
    """A ticket state in Chinese ('new' → 待受理); an unknown one as it is."""
    return _STATE_NAMES.get(state, state)


def person_name(bot: GridBot, key: str | None, default: str = "") -> str:
    """The name of a person of config.yaml by key (a ticket's assignee), else `default`."""
    person = bot.config.people.get(key) if key else None
    return person.name if person is not None else default


def forbidden(what: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=f"{what}不在您负责的范围内。", content_type="text/plain")


def ticket_filters(request: web.Request) -> dict[str, str]:
    """The ticket list's filters from the query string, cleaned and cut to length."""
    return {k: clean(request.query.get(k, "")).strip()[:100] for k in FILTERS}


class UnknownNode(ValueError):
    """A node filter that names no node the account sees (the message says why, in Chinese)."""


def visible_nodes(tree: GridTree, user: WebUser) -> list[GridNode]:
    """The nodes the account sees, tree order: the node filter's suggestions."""
    return [node for node in tree if user.can_see(tree, node.code)]


def node_filter(tree: GridTree, user: WebUser, text: str) -> str:
    """The node a filter names, by code or by name (exact, else the only one whose name contains it).

    A code outside the account's scope is a 403, like the ticket it would show; a name that fits no node, or
    several, is UnknownNode."""
    text = text.strip()
    if text in tree:
        if not user.can_see(tree, text):
            raise forbidden(f"节点 {text} ")
        return text
    seen = visible_nodes(tree, user)
    exact = [n for n in seen if n.name == text]
    fits = exact or [n for n in seen if text in n.name]
    if len(fits) == 1:
        return fits[0].code
    if fits:
        names = "、".join(f"{n.name}（{n.code}）" for n in fits[:5])
        raise UnknownNode(f"有 {len(fits)} 个节点的名称含“{text}”：{names}{'…' if len(fits) > 5 else ''}，请写全名或编码。")
    raise UnknownNode(f"您负责的范围内没有叫“{text}”的节点。")


def offered_actions(state: str) -> list[tuple[str, str]]:
    """The console's actions the ticket's state allows (the transition table decides): (key, label)."""
    allowed = set(allowed_actions(state))
    return [(key, label) for key, (label, action) in ACTIONS.items() if action in allowed]


def _day(value: str, tz: ZoneInfo, *, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), datetime.min.time(), tz)


async def query_tickets(request: web.Request, bot: GridBot, user: WebUser, *, limit: int, offset: int = 0
                        ) -> list[TicketRow]:
    """The ticket list behind the page, the exports and the API: filters checked against the account's scope."""
    f = ticket_filters(request)
    tree = bot.config.tree
    node_prefix = None
    if f["node"]:
        try:
            node_prefix = node_path(tree, node_filter(tree, user, f["node"]))
        except UnknownNode as exc:
            raise bad_request(str(exc)) from None
    state = f["state"] if f["state"] in (*STATES, "open") else None
    category = f["category"] if f["category"] in CATEGORY_NAMES else None
    urgency = f["urgency"] if f["urgency"] in URGENCY_NAMES else None
    return await bot.db.run(lambda s: WebRepository(s).tickets(
        prefixes=user.path_prefixes(tree), state=state, category=category, urgency=urgency, node_prefix=node_prefix,
        overdue_at=bot.clock.now() if f["overdue"] else None, text=f["q"] or None,
        start=_day(f["from"], bot.config.tz), end=_day(f["to"], bot.config.tz, end=True), limit=limit,
        offset=offset), what="tickets")


def say_to_groups(work: Work, replies: list[Reply], here: Address) -> str:
    """What the desk says to the groups goes with the unit of work; what it says to the web user comes back."""
    work.say([r for r in replies if r.to != here])
    return " ".join(r.text for r in replies if r.to == here)


async def record(bot: GridBot, user: WebUser, action: str, target: str | None, outcome: str,
                 detail: str | None = None) -> None:
    """An audit line in a transaction of its own: a refusal before any work, or a failure after the work rolled back."""
    await bot.db.run(lambda s: WebRepository(s).audit(at=bot.clock.now(), username=user.username, action=action,
                                                      target=target, detail=detail, outcome=outcome), what="audit")


async def _audited(bot: GridBot, user: WebUser, action: str, target: str, job: Callable[[Work], Awaitable[str]],
                   *, what: str) -> str:
    """Run `job`; if it fails, the audit log says 失败 (the job's own line went with its rolled-back transaction)."""
    try:
        return await perform(bot.services, job, what=what, wake=True)  # a desk may queue rows itself
    except Exception as exc:
        with suppress(Exception):  # the database may be what failed: the error that reaches the user is the first
            await record(bot, user, action, target, "failed", type(exc).__name__)
        raise


def _detail(*parts: str | None) -> str | None:
    return "；".join(p for p in parts if p) or None


async def _check_action(bot: GridBot, user: WebUser, action_key: str, target: str) -> Action:
    """The action of `action_key`; a read-only account's attempt is refused, and logged as 拒绝."""
    if action_key not in ACTIONS:
        raise bad_request(f"操作必须是 {'、'.join(ACTIONS)} 之一。")
    if not user.can_act:
        await record(bot, user, action_key, target, "refused", "这个账号只能查看")
        raise web.HTTPForbidden(text="这个账号不能操作工单。")
    return ACTIONS[action_key][1]


async def _act(work: Work, user: WebUser, number: int, action_key: str, note: str, target: str) -> tuple[bool, str]:
    """The desk's action inside `work`, audited: (whether a step was taken, what the desk answered the actor).

    The audit log tells the truth: 允许 only when the ticket changed, 拒绝 with the desk's reason otherwise."""
    action = ACTIONS[action_key][1]
    here = Address.contact(f"web:{user.username}")  # the desk's answer to the actor comes back here, not to WeChat
    repo = TicketRepository(work.session)
    ticket = await repo.find_by_number(number)
    before = await repo.last_event_id(ticket.id) if ticket is not None else 0
    replies = await work.tickets.act(number, action, user.person, note=note[:500],
                                     target=target[:100] if action == Action.REASSIGN else None, reply_to=here)
    said = say_to_groups(work, replies, here)
    done = ticket is not None and await repo.last_event_id(ticket.id) > before  # a refusal writes no step
    await WebRepository(work.session).audit(at=work.now, username=user.username, action=action_key,
                                            target=f"ticket:{number}", outcome="allowed" if done else "refused",
                                            detail=_detail(note or target, None if done else said))
    return done, said or f"已{ACTIONS[action_key][0]}，相关的群会收到进度消息。"


async def act_on_ticket(bot: GridBot, user: WebUser, number: int, action_key: str, note: str, target: str) -> str:
    """Take an action exactly as the chat command would; returns what the desk answered the actor."""
    await _check_action(bot, user, action_key, f"ticket:{number}")

    async def job(work: Work) -> str:
        return (await _act(work, user, number, action_key, note, target))[1]

    return await _audited(bot, user, action_key, f"ticket:{number}", job, what="ticket action")


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """One ticket of a bulk action: done or refused, and why."""

    number: int
    done: bool
    text: str


BULK_ACTIONS = ("accept", "reassign")
BULK_LIMIT = 100


async def act_on_tickets(bot: GridBot, user: WebUser, numbers: list[int], action_key: str,
                         target: str) -> list[BulkOutcome]:
    """A leader's bulk 受理 / 转派: each ticket in its own unit of work through the same desk action as chat,
    refused one by one where the account's scope or the ticket's state does not allow it."""
    if action_key not in BULK_ACTIONS:
        raise bad_request("批量操作只能是受理或转派。")
    action = await _check_action(bot, user, action_key, "tickets")
    if action == Action.REASSIGN and not target.strip():
        raise bad_request("批量转派要写转派给谁。")
    tree = bot.config.tree

    async def one(work: Work, number: int) -> BulkOutcome:
        ticket = await TicketRepository(work.session).find_by_number(number)
        why = None
        if ticket is None:
            why = wording.not_found(number)
        elif not user.can_see(tree, ticket.node_code):
            why = wording.not_yours(number)
        elif action not in allowed_actions(ticket.state):
            why = wording.cannot(ticket, action)
        if why is not None:  # refused before the desk: the audit log still says who tried what
            await WebRepository(work.session).audit(at=work.now, username=user.username, action=action_key,
                                                    target=f"ticket:{number}", outcome="refused",
                                                    detail=_detail("批量", target, why))
            return BulkOutcome(number, False, why)
        done, said = await _act(work, user, number, action_key, "", target)
        return BulkOutcome(number, done, said)

    outcomes = []
    for number in dict.fromkeys(numbers[:BULK_LIMIT]):  # each once, in the order ticked
        outcomes.append(await perform(bot.services, lambda work, n=number: one(work, n), what="bulk ticket action", wake=True))
    return outcomes


async def notice_words(bot: GridBot, user: WebUser, node_code: str, text: str, *, tiers: list[str], deadline: str,
                 urgent: bool) -> str:
    """What follows `#通知` for the console's form (options, then the text), once the account may post there."""
    tree = bot.config.tree
    if not user.can_act or not user.can_see(tree, node_code):
        await record(bot, user, "notice", f"node:{node_code}", "refused", text.strip()[:200])
        raise forbidden(f"节点 {node_code} ")
    parts = []
    if tiers:
        parts.append("只发" + "、".join(t for t in tiers if t in tree.tiers))
    if deadline.strip():
        parts.append(f"截止 {deadline.strip()[:50]}")
    if urgent:
        parts.append("紧急")
    return " ".join([*parts, text.strip()[:2000]])


async def post_notice(bot: GridBot, user: WebUser, node_code: str, text: str, *, tiers: list[str], deadline: str,
                      urgent: bool) -> str:
    """Post a notice exactly as `#通知` would (its wording is built from the form)."""
    tree = bot.config.tree
    rest = await notice_words(bot, user, node_code, text, tiers=tiers, deadline=deadline, urgent=urgent)
    here = Address.contact(f"web:{user.username}")

    async def job(work: Work) -> str:
        notices = NoticeRepository(work.session)
        before = await notices.latest_by(user.person.key) if user.person is not None else None
        replies = await work.notices.post(user.person, tree.node(node_code), rest, reply_to=here,
                                          posted_in_origin=False)
        said = say_to_groups(work, replies, here)
        after = await notices.latest_by(user.person.key) if user.person is not None else None
        done = after is not None and (before is None or after.id != before.id)  # a refusal creates no notice
        await WebRepository(work.session).audit(at=work.now, username=user.username, action="notice",
                                                target=f"node:{node_code}", outcome="allowed" if done else "refused",
                                                detail=_detail(rest, None if done else said))
        return said

    return await _audited(bot, user, "notice", f"node:{node_code}", job, what="posting a notice")
