"""What the console, the JSON API and Open311 share: the ticket query behind lists and exports, ticket actions
and notices taken exactly as the chat commands take them, and the outbox for what the desks say to groups."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain.grid import node_path
from bot.domain.tickets import CATEGORY_NAMES, STATE_NAMES, URGENCY_NAMES, Action, State
from bot.messages import Address, Reply
from bot.work import Work, perform
from bot.web.accounts import WebUser
from bot.web.forms import bad_request, clean
from storage.models import TicketRow
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
        if not user.can_see(tree, f["node"]):
            raise forbidden(f"节点 {f['node']} ")
        node_prefix = node_path(tree, f["node"])
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


async def act_on_ticket(bot: GridBot, user: WebUser, number: int, action_key: str, note: str, target: str) -> str:
    """Take an action exactly as the chat command would; returns what the desk answered the actor."""
    if action_key not in ACTIONS:
        raise bad_request(f"操作必须是 {'、'.join(ACTIONS)} 之一。")
    if not user.can_act:
        raise web.HTTPForbidden(text="这个账号不能操作工单。")
    action = ACTIONS[action_key][1]
    here = Address.contact(f"web:{user.username}")  # the desk's answer to the actor comes back here, not to WeChat

    async def job(work: Work) -> str:
        replies = await work.tickets.act(number, action, user.person, note=note[:500],
                                         target=target[:100] if action == Action.REASSIGN else None, reply_to=here)
        said = say_to_groups(work, replies, here)
        await WebRepository(work.session).audit(at=work.now, username=user.username, action=action_key,
                                                target=f"ticket:{number}", detail=note or target or None)
        return said or f"已{ACTIONS[action_key][0]}，相关的群会收到进度消息。"

    return await perform(bot.services, job, what="ticket action")


def notice_words(bot: GridBot, user: WebUser, node_code: str, text: str, *, tiers: list[str], deadline: str,
                 urgent: bool) -> str:
    """What follows `#通知` for the console's form (options, then the text), once the account may post there."""
    tree = bot.config.tree
    if not user.can_act or not user.can_see(tree, node_code):
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
    rest = notice_words(bot, user, node_code, text, tiers=tiers, deadline=deadline, urgent=urgent)
    here = Address.contact(f"web:{user.username}")

    async def job(work: Work) -> str:
        replies = await work.notices.post(user.person, tree.node(node_code), rest, reply_to=here,
                                          posted_in_origin=False)
        said = say_to_groups(work, replies, here)
        await WebRepository(work.session).audit(at=work.now, username=user.username, action="notice",
                                                target=f"node:{node_code}", detail=rest)
        return said

    return await perform(bot.services, job, what="posting a notice")
