"""The console for secretaries and leaders (Chinese, server-rendered; every resident's word is escaped).

Pages: overview, the grid tree with counts, tickets (filters, detail, actions), notices (write, progress),
digest preview, CSV / Excel export, audit log. Actions go through TicketDesk / NoticeDesk — the same code as
the chat commands — so the same status messages reach the same groups.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.digest import PERIOD_NAMES, calendar_period
from bot.domain.grid import node_path
from bot.domain.privacy import mask_personal
from bot.domain.tickets import CATEGORY_NAMES, STATE_NAMES, URGENCY_NAMES, Action, State, is_overdue
from bot.messages import Address, Reply
from bot.web import auth
from bot.web.forms import bad_request, clean, local_path, read_form, whole_number
from bot.web.accounts import ROLE_NAMES, WebUser
from storage.repositories import OutboxRepository
from storage.ticket_repository import TicketRepository
from storage.web_repository import WebRepository

ACTIONS = {"accept": ("受理", Action.ACCEPT), "resolve": ("办结", Action.RESOLVE), "reassign": ("转派", Action.REASSIGN),
           "escalate": ("上报", Action.ESCALATE), "close": ("关闭", Action.CLOSE), "reopen": ("重开", Action.REOPEN)}
STATES = tuple(s.value for s in State)
PAGE = 50


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _bot(request: web.Request):  # type: ignore[no-untyped-def]
    from bot.web.app import BOT_KEY

    return request.app[BOT_KEY]


def page(title: str, body: str, user: WebUser | None = None, *, simulator: bool = False) -> web.Response:
    nav = ""
    if user is not None:
        links = [("/console", "概览"), ("/console/tree", "网格树"), ("/console/tickets", "工单"),
                 ("/console/review", "待确认"), ("/console/notices", "通知"), ("/console/digest", "简报")]
        if simulator:
            links.append(("/simulator", "群聊模拟器"))
        if user.role == "secretary":
            links.append(("/console/audit", "操作记录"))
        nav = ("<nav>" + "".join(f"<a href='{href}'>{label}</a>" for href, label in links)
               + f"<span class='who'>{e(user.username)}（{e(ROLE_NAMES.get(user.role, user.role))}）"
               "<form method='post' action='/logout' class='inline'><button>退出</button></form></span></nav>")
    html = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)} · 微格助手</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<link rel='stylesheet' href='/static/console.css'></head>"
            f"<body>{nav}<main><h1>{e(title)}</h1>{body}</main></body></html>")
    return web.Response(text=html, content_type="text/html",
                        headers={"Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                                 "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"})


async def require(request: web.Request) -> tuple[WebUser, str]:
    found = await auth.current_user(request, _bot(request))
    if found is None:
        raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs}))
    return found


async def audit(request: web.Request, user: WebUser, action: str, target: str | None, detail: str | None = None,
                *, allowed: bool = True) -> None:
    bot = _bot(request)
    await bot.db.run(lambda s: WebRepository(s).audit(at=bot.clock.now(), username=user.username, action=action,
                                                      target=target, detail=detail, allowed=allowed), what="audit")


def forbidden(what: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=f"{what}不在您负责的范围内。", content_type="text/plain")


# -- signing in --------------------------------------------------------------------------------------

def login_form(error: str, nxt: str) -> web.Response:
    body = (("<p class='error'>" + e(error) + "</p>" if error else "")
            + "<form method='post' action='/login' class='login'>"
            f"<input type='hidden' name='next' value='{e(nxt)}'>"
            "<label>用户名 <input name='username' autocomplete='username' required></label>"
            "<label>密码 <input name='password' type='password' autocomplete='current-password' required></label>"
            "<button>登录</button></form>")
    return page("登录", body)


async def login_page(request: web.Request) -> web.Response:
    return login_form(request.query.get("error", ""), local_path(request.query.get("next", "/console")))


async def login_post(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    form = await read_form(request)
    username, password = clean(str(form.get("username", "")))[:100], clean(str(form.get("password", "")))[:200]
    nxt = local_path(str(form.get("next", "/console")))
    result = await auth.login(bot, request.app[LIMITER], username, password, request.remote or "?")
    if isinstance(result, str):
        response = login_form(result, nxt)
        response.set_status(429 if "太多" in result else 401)
        return response
    token, _ = result
    response = web.HTTPFound(nxt)
    auth.set_session_cookie(response, token, secure=bot.config.web.secure_cookies)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    token = request.cookies.get(auth.COOKIE)
    if token:
        await bot.db.run(lambda s: WebRepository(s).end_session(auth.token_hash(token)), what="logout")
    response = web.HTTPFound("/login")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


# -- pages ---------------------------------------------------------------------------------------------

def _ticket_rows(tickets: Iterable[Any], bot: Any) -> str:
    tree, now = bot.config.tree, bot.clock.now()
    rows = []
    for t in tickets:
        overdue = is_overdue(t.state, t.due_at, t.breached, now)
        node = tree.node(t.node_code).name if t.node_code in tree else t.node_code
        rows.append(
            f"<tr class='{'overdue' if overdue else ''} {e(t.urgency)}'><td><a href='/console/tickets/{t.number}'>"
            f"#{t.number}</a></td><td>{e(STATE_NAMES.get(t.state, t.state))}{'·超时' if overdue else ''}</td>"
            f"<td>{e(CATEGORY_NAMES.get(t.category, t.category))}</td><td>{e(URGENCY_NAMES.get(t.urgency))}</td>"
            f"<td>{e(node)}</td><td class='text'>{e(t.text[:80])}</td><td>{t.reporter_count}</td>"
            f"<td>{e(t.created_at.astimezone(bot.config.tz).strftime('%m-%d %H:%M'))}</td></tr>")
    return ("<table class='tickets'><tr><th>编号</th><th>状态</th><th>类别</th><th>紧急</th><th>网格</th><th>内容</th>"
            "<th>人数</th><th>时间</th></tr>" + "".join(rows) + "</table>")


async def overview(request: web.Request) -> web.Response:
    from bot.digests import DigestDesk

    user, _ = await require(request)
    bot = _bot(request)
    top = user.nodes[0] if user.nodes else None
    if top is None:
        return page("概览", "<p>这个账号没有可查看的范围。</p>", user)
    today = bot.clock.now().astimezone(bot.config.tz).date()

    async def work(session):  # type: ignore[no-untyped-def]
        desk = DigestDesk(session, bot.config, bot.clock.now(), directory=bot.directory,
                          bot_id=bot.transport.self_id)
        day = await desk.figures(top, calendar_period("day", today, bot.config.tz))
        week = await desk.figures(top, calendar_period("week", today, bot.config.tz))
        repo = WebRepository(session)
        prefixes = user.path_prefixes(bot.config.tree)
        urgent = await repo.tickets(prefixes=prefixes, state="open", urgency="urgent", limit=20)
        late = await repo.tickets(prefixes=prefixes, overdue_at=bot.clock.now(), limit=20)
        return day, week, urgent, late

    day, week, urgent, late = await bot.db.run(work, what="overview")
    from bot.web.review_pages import pending

    held = await pending(bot, user, limit=5)

    def figures(name: str, f: Any) -> str:
        t = f.tickets
        return (f"<div class='card'><h2>{name}</h2><p>新增 <b>{t.new}</b>，受理 {t.accepted}，办结 {t.resolved}，"
                f"关闭 {t.closed}</p><p>未办结 <b>{t.open}</b>，其中超时 <b class='late'>{t.overdue}</b></p>"
                f"<p>本级办结 {t.own_level}，上报办结 {t.escalated}；按时办结 {t.on_time}/{t.judged}</p>"
                f"<p>通知 {f.notices.sent} 条，送达 {f.notices.groups} 群次</p></div>")

    body = (f"<p>范围：{e(bot.config.tree.node(top).name)}（{e(top)}）</p><div class='cards'>"
            + figures("今天", day) + figures("本周", week) + "</div>"
            + "<h2>紧急未办结</h2>" + _ticket_rows(urgent, bot)
            + "<h2>超时未办结</h2>" + _ticket_rows(late, bot)
            + "<h2>待确认</h2>" + (f"<p><a href='/console/review'>机器人没有把握的消息（最早的 {len(held)} 条），去处理</a></p>"
                                 + "".join(f"<p class='text'>[{i.id}] {e(i.sender_name)}：{e(i.text[:60])}</p>"
                                           for i in held) if held else "<p>没有待确认的消息。</p>"))
    return page("概览", body, user, simulator=_has_simulator(bot))


def _has_simulator(bot: Any) -> bool:
    return bot.transport.name == "simulator"


async def tree_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = _bot(request)
    tree = bot.config.tree
    counts = await bot.db.run(lambda s: WebRepository(s).node_counts(user.path_prefixes(tree), bot.clock.now()),
                              what="node counts")

    def subtree_total(code: str) -> tuple[int, int]:
        open_, late = 0, 0
        for node in tree.descendants(code):
            n, d = counts.get(node.code, (0, 0))
            open_, late = open_ + n, late + d
        return open_, late

    items = []
    for top in user.nodes:
        for node in tree.descendants(top):
            open_, late = subtree_total(node.code)
            depth = node.depth - tree.node(top).depth
            items.append(f"<li style='margin-left:{depth * 1.5}em'><a href='/console/tickets?"
                         f"{urlencode({'node': node.code, 'state': 'open'})}'>{e(node.name)}</a> "
                         f"<code>{e(node.code)}</code> {e(node.tier)} · 未办结 {open_}"
                         + (f" · <span class='late'>超时 {late}</span>" if late else "") + "</li>")
    return page("网格树", "<ul class='tree'>" + "".join(items) + "</ul>", user, simulator=_has_simulator(bot))


def _filters(request: web.Request) -> dict[str, str]:
    keys = ("state", "category", "urgency", "node", "overdue", "q", "from", "to")
    return {k: clean(request.query.get(k, "")).strip()[:100] for k in keys}


def _day(value: str, tz: Any, *, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), datetime.min.time(), tz)


async def query_tickets(request: web.Request, bot: Any, user: WebUser, *, limit: int, offset: int = 0
                        ) -> list[Any]:
    """The ticket list behind the page, the exports and the API: filters checked against the account's scope."""
    f = _filters(request)
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


def _options(values: Iterable[tuple[str, str]], chosen: str) -> str:
    return "<option value=''>全部</option>" + "".join(
        f"<option value='{e(v)}'{' selected' if v == chosen else ''}>{e(label)}</option>" for v, label in values)


async def tickets_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = _bot(request)
    f = _filters(request)
    offset = whole_number(request.query.get("offset", "0"))
    if offset is None:
        raise bad_request("offset 必须是整数。")
    tickets = await query_tickets(request, bot, user, limit=PAGE + 1, offset=offset)
    more = len(tickets) > PAGE
    states = [("open", "未办结"), *((s, STATE_NAMES[s]) for s in STATES)]
    form = ("<form method='get' class='filters'>"
            f"<select name='state'>{_options(states, f['state'])}</select>"
            f"<select name='category'>{_options(CATEGORY_NAMES.items(), f['category'])}</select>"
            f"<select name='urgency'>{_options(URGENCY_NAMES.items(), f['urgency'])}</select>"
            f"<input name='node' placeholder='节点编码' value='{e(f['node'])}'>"
            f"<label><input type='checkbox' name='overdue' value='1'{' checked' if f['overdue'] else ''}>只看超时</label>"
            f"<input name='q' placeholder='搜索内容' value='{e(f['q'])}'>"
            f"<input name='from' type='date' value='{e(f['from'])}'><input name='to' type='date' value='{e(f['to'])}'>"
            "<button>筛选</button></form>")
    query = {k: v for k, v in f.items() if v}
    exports = (f"<p class='exports'><a href='/console/export.csv?{urlencode(query)}'>导出 CSV</a> · "
               f"<a href='/console/export.xlsx?{urlencode(query)}'>导出 Excel</a></p>")
    pager = ""
    if more or offset:
        prev_q = urlencode({**query, "offset": max(0, offset - PAGE)})
        next_q = urlencode({**query, "offset": offset + PAGE})
        pager = ("<p class='pager'>" + (f"<a href='?{prev_q}'>上一页</a> " if offset else "")
                 + (f"<a href='?{next_q}'>下一页</a>" if more else "") + "</p>")
    return page("工单", form + exports + _ticket_rows(tickets[:PAGE], bot) + pager, user,
                simulator=_has_simulator(bot))


async def load_ticket(request: web.Request, bot: Any, user: WebUser) -> Any:
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text="没有这张工单")
    ticket = await bot.db.run(lambda s: TicketRepository(s).find_by_number(number), what="ticket")
    if ticket is None:
        raise web.HTTPNotFound(text=f"没有工单 #{number}")
    if not user.can_see(bot.config.tree, ticket.node_code):
        await audit(request, user, "view", f"ticket:{number}", allowed=False)
        raise forbidden(f"工单 #{number} ")
    return ticket


async def ticket_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = _bot(request)
    ticket = await load_ticket(request, bot, user)
    tz = bot.config.tz

    async def details(session):  # type: ignore[no-untyped-def]
        repo = TicketRepository(session)
        return (await repo.timeline(ticket.id), await repo.reporters(ticket.id),
                await WebRepository(session).messages_of(ticket.id))

    timeline, reporters, messages = await bot.db.run(details, what="ticket detail")
    node = bot.config.tree.node(ticket.node_code)
    flash = request.query.get("said", "")
    body = [("<p class='flash'>" + e(flash) + "</p>") if flash else "",
            f"<dl><dt>状态</dt><dd>{e(STATE_NAMES.get(ticket.state, ticket.state))}"
            f"{'（已上报 ' + str(ticket.escalation_level) + ' 级）' if ticket.escalation_level else ''}</dd>"
            f"<dt>类别</dt><dd>{e(CATEGORY_NAMES.get(ticket.category))} · {e(URGENCY_NAMES.get(ticket.urgency))}</dd>"
            f"<dt>网格</dt><dd>{e(node.name)} <code>{e(node.code)}</code></dd>"
            f"<dt>负责人</dt><dd>{e(bot.config.people[ticket.assignee].name if ticket.assignee in bot.config.people else '—')}</dd>"
            f"<dt>期限</dt><dd>{e(ticket.due_at.astimezone(tz).strftime('%Y-%m-%d %H:%M') if ticket.due_at else '—')}</dd>"
            f"<dt>原文</dt><dd class='text'>{e(ticket.text)}</dd></dl>",
            "<h2>反映人</h2><ul>" + "".join(
                f"<li>{e(r.reporter_name)} · {e(r.at.astimezone(tz).strftime('%m-%d %H:%M'))}</li>" for r in reporters)
            + "</ul>",
            "<h2>群里的原话</h2><ul class='messages'>" + "".join(
                f"<li><b>{e(m.sender_name)}</b>：{e(m.text) if m.msg_type == 'text' else '[图片]'}</li>"
                for m in messages) + "</ul>",
            "<h2>时间线</h2><ol class='timeline'>" + "".join(
                f"<li>{e(ev.at.astimezone(tz).strftime('%m-%d %H:%M'))} {e(ev.actor)} {e(ev.action)}"
                f"{' · ' + e(ev.note) if ev.note else ''}</li>" for ev in timeline) + "</ol>"]
    if user.can_act:
        buttons = "".join(f"<button name='action' value='{key}'>{label}</button>" for key, (label, _) in ACTIONS.items())
        body.append(f"<h2>处理</h2><form method='post' class='act'><input type='hidden' name='csrf' value='{e(csrf)}'>"
                    "<input name='note' placeholder='说明（办结、上报时写）' maxlength='500'>"
                    "<input name='target' placeholder='转派给（人名或节点编码）' maxlength='100'>"
                    f"{buttons}</form>")
    return page(f"工单 #{ticket.number}", "".join(body), user, simulator=_has_simulator(bot))


async def queue_for_groups(session: Any, bot: Any, replies: list[Reply], here: Address) -> str:
    """What the desk says to the groups goes to the outbox; what it says to the web user comes back as text."""
    outgoing = [r for r in replies if r.to != here]
    if outgoing:
        await OutboxRepository(session).enqueue(outgoing, now=bot.clock.now())
    return " ".join(r.text for r in replies if r.to == here)


async def act_on_ticket(bot: Any, user: WebUser, number: int, action_key: str, note: str, target: str) -> str:
    """Take an action exactly as the chat command would; returns what the desk answered the actor."""
    from bot.tickets import TicketDesk

    if action_key not in ACTIONS:
        raise bad_request(f"操作必须是 {'、'.join(ACTIONS)} 之一。")
    if not user.can_act:
        raise web.HTTPForbidden(text="这个账号不能操作工单。")
    action = ACTIONS[action_key][1]
    here = Address.contact(f"web:{user.username}")  # the desk's answer to the actor comes back here, not to WeChat

    async def work(session):  # type: ignore[no-untyped-def]
        desk = TicketDesk(session, bot.config, bot.directory, bot.clock.now())
        replies: list[Reply] = await desk.act(number, action, user.person, note=note[:500],
                                              target=target[:100] if action == Action.REASSIGN else None,
                                              reply_to=here)
        said = await queue_for_groups(session, bot, replies, here)
        await WebRepository(session).audit(at=bot.clock.now(), username=user.username, action=action_key,
                                           target=f"ticket:{number}", detail=note or target or None)
        return said or f"已{ACTIONS[action_key][0]}，相关的群会收到进度消息。"

    said = await bot.db.run(work, what="ticket action")
    bot.sender.wake()
    return said


async def posted_form(request: web.Request) -> tuple[WebUser, Any, Any]:
    """A signed-in user's form, its CSRF token checked: (user, bot, form)."""
    user, csrf = await require(request)
    form = await read_form(request)
    auth.check_csrf(csrf, form.get("csrf"))
    return user, _bot(request), form


async def ticket_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    ticket = await load_ticket(request, bot, user)
    said = await act_on_ticket(bot, user, ticket.number, str(form.get("action", "")),
                               clean(str(form.get("note", ""))), clean(str(form.get("target", ""))))
    raise web.HTTPFound(f"/console/tickets/{ticket.number}?" + urlencode({"said": said}))


# -- notices -------------------------------------------------------------------------------------------

async def notice_views(bot: Any, user: WebUser, *, limit: int = 30, number: int | None = None) -> list[Any]:
    """The notices an account follows, newest first, each with the groups in its view counted by the same
    code as `#回执` (NoticeDesk.room_acks → bot.domain.acks.count_room).

    A notice is followed in full when its origin is in the account's subtrees; otherwise the part of it that
    reached their subtrees (a grid leader follows the secretary's notice in their own grid only).
    """
    from sqlalchemy import select

    from bot.notices import NoticeDesk
    from storage.models import NoticeRow

    tree = bot.config.tree
    full = set(user.nodes) >= set(tree.roots)

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(NoticeRow).order_by(NoticeRow.id.desc())
        query = query.where(NoticeRow.number == number) if number is not None else query.limit(limit)
        desk = NoticeDesk(session, bot.config, bot.directory, bot.clock.now(), bot.transport.self_id)
        views = []
        for notice in await session.scalars(query):
            within = None if full or user.can_see(tree, notice.node_code) else tuple(user.nodes)
            rooms = await desk.room_acks(notice, within)
            if within is not None and not rooms:
                continue
            counts = await desk.repo.delivery_counts(notice.id)
            views.append(NoticeView(notice, within, rooms, counts))
        return views

    return await bot.db.run(work, what="notices")


class NoticeView:
    """One notice as an account sees it: the groups in its view and their figures."""

    def __init__(self, notice: Any, within: tuple[str, ...] | None, rooms: list[Any], counts: dict[str, int]):
        from bot.domain.acks import NoticeTotals

        self.notice = notice
        self.within = within
        self.rooms = rooms
        self.totals = NoticeTotals.of(rooms)
        self.delivered = counts.get("sent", 0) if within is None else len(rooms)
        self.groups = notice.room_count if within is None else len(rooms)
        self.failed = counts.get("failed", 0) if within is None else 0

    def progress(self) -> str:
        t = self.totals
        return (f"已送达 {self.delivered}/{self.groups} 群，回执 {t.acked_households}/{t.households} 户"
                f"（{t.acked}/{t.members} 人）" + ("，仅您负责的范围" if self.within is not None else ""))


async def notices_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = _bot(request)
    tree = bot.config.tree
    visible = await notice_views(bot, user)
    items = "".join(
        f"<tr><td><a href='/console/notices/{v.notice.number}'>#{v.notice.number}</a></td>"
        f"<td>{e(tree.node(v.notice.node_code).name if v.notice.node_code in tree else v.notice.node_code)}</td>"
        f"<td class='text'>{e(v.notice.text[:60])}</td><td class='progress' data-notice='{v.notice.number}'>"
        f"{e(v.progress())}</td></tr>"
        for v in visible)
    form = ""
    if user.can_act:
        nodes = "".join(f"<option value='{e(node.code)}'>{e(node.name)}（{e(node.code)}）</option>"
                        for top in user.nodes for node in tree.descendants(top) if node.children)
        tiers = "".join(f"<label><input type='checkbox' name='tier' value='{e(t)}'>{e(t)}</label>"
                        for t in tree.tiers[1:])
        form = (f"<h2>发通知</h2><form method='post' class='notice'><input type='hidden' name='csrf' value='{e(csrf)}'>"
                f"<label>发给 <select name='node'>{nodes}</select> 以下的群</label>"
                f"<div>只发这些层级（不选则全部）：{tiers}</div>"
                "<label>截止 <input name='deadline' placeholder='如 明天18点、12月20日'></label>"
                "<label><input type='checkbox' name='urgent' value='1'>紧急</label>"
                "<textarea name='text' required maxlength='2000' placeholder='通知内容'></textarea>"
                "<button>发送</button></form>")
    flash = request.query.get("said", "")
    body = (("<p class='flash'>" + e(flash) + "</p>") if flash else "") + form + (
        "<h2>最近的通知</h2><table class='notices'><tr><th>编号</th><th>范围</th><th>内容</th><th>进度</th></tr>"
        + items + "</table><p class='hint'>进度每 10 秒刷新。回执按户计：只数居民（群里的负责人和通知的发出人不计），"
        "房东群里的房东也计入。</p>"
        "<script src='/static/console.js'></script>")
    return page("通知", body, user, simulator=_has_simulator(bot))


async def notice_page(request: web.Request) -> web.Response:
    """One notice: totals, by tier, by group, and who has not replied — in the account's view."""
    from bot.domain.acks import roll_up

    user, _ = await require(request)
    bot = _bot(request)
    tree = bot.config.tree
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text="没有这条通知。")
    views = await notice_views(bot, user, number=number)
    if not views:
        raise web.HTTPNotFound(text="没有找到这条通知，或它没有发到您负责的范围。")
    v = views[0]
    n, t, tz = v.notice, v.totals, bot.config.tz
    head = (f"<h1>通知 #{n.number}</h1><p class='text'>{e(n.text)}</p>"
            f"<p>发出 {n.created_at.astimezone(tz):%m月%d日 %H:%M}"
            + (f"，截止 {n.deadline.astimezone(tz):%m月%d日 %H:%M}" if n.deadline else "") + "</p>"
            f"<p class='totals'>已送达 <b class='delivered'>{v.delivered}</b>/{v.groups} 个群"
            + (f"，失败 {v.failed} 个" if v.failed else "")
            + f"；已回复 <b class='households'>{t.acked_households}/{t.households}</b> 户、"
            f"<b class='members'>{t.acked}/{t.members}</b> 人"
            + ("（仅您负责的范围）" if v.within is not None else "") + "</p>")
    tiers = "".join(f"<tr><td>{e(a.tier)}</td><td>{a.rooms}</td><td>{a.complete_rooms}</td>"
                    f"<td>{a.acked_households}/{a.households}</td><td>{a.acked}/{a.members}</td></tr>"
                    for a in roll_up(v.rooms, tree.tiers))

    def room_label(key: str) -> str:
        room = tree.room(room_id=key, topic=key)
        return (room.topic or key) if room is not None else key

    groups = "".join(f"<tr><td>{e(room_label(r.room_key))}</td><td>{e(r.tier)}</td>"
                     f"<td>{r.acked_households}/{r.households}</td><td>{r.acked}/{r.members}</td></tr>"
                     for r in sorted(v.rooms, key=lambda r: (r.share, r.room_key)))
    missing = "".join(f"<tr><td>{e(room_label(r.room_key))}</td><td>{e(name)}</td></tr>"
                      for r in v.rooms for _, name in r.missing)
    body = (head + "<h2>按层级</h2><table class='tiers'><tr><th>层级</th><th>群</th><th>全部回复</th><th>户</th>"
            "<th>人</th></tr>" + tiers + "</table><h2>按群</h2><table class='groups'><tr><th>群</th><th>层级</th>"
            "<th>户</th><th>人</th></tr>" + groups + "</table><h2>未回复</h2><table class='missing'><tr><th>群</th>"
            "<th>群昵称</th></tr>" + missing + "</table>")
    return page(f"通知 #{n.number}", body, user, simulator=_has_simulator(bot))


async def _progress(session: Any, notice_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per notice: groups delivered, members who acknowledged (raw counts, staff included: the JSON API)."""
    from sqlalchemy import func, select

    from storage.models import NoticeAckRow, OutboxRow

    if not notice_ids:
        return {}
    refs = {f"notice:{i}": i for i in notice_ids}
    sent = dict((await session.execute(select(OutboxRow.ref, func.count()).where(
        OutboxRow.ref.in_(list(refs)), OutboxRow.kind == "notice", OutboxRow.status == "sent")
        .group_by(OutboxRow.ref))).all())
    acks = dict((await session.execute(select(NoticeAckRow.notice_id, func.count()).where(
        NoticeAckRow.notice_id.in_(notice_ids)).group_by(NoticeAckRow.notice_id))).all())
    return {i: (int(sent.get(ref, 0)), int(acks.get(i, 0))) for ref, i in refs.items()}


async def post_notice(bot: Any, user: WebUser, node_code: str, text: str, *, tiers: list[str], deadline: str,
                      urgent: bool) -> str:
    """Post a notice exactly as `#通知` would (its wording is built from the form)."""
    from bot.notices import NoticeDesk

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
    rest = " ".join([*parts, text.strip()[:2000]])
    here = Address.contact(f"web:{user.username}")

    async def work(session):  # type: ignore[no-untyped-def]
        desk = NoticeDesk(session, bot.config, bot.directory, bot.clock.now(), bot.transport.self_id)
        replies = await desk.post(user.person, tree.node(node_code), rest, reply_to=here, posted_in_origin=False)
        said = await queue_for_groups(session, bot, replies, here)
        await WebRepository(session).audit(at=bot.clock.now(), username=user.username, action="notice",
                                           target=f"node:{node_code}", detail=rest)
        return said

    said = await bot.db.run(work, what="posting a notice")
    bot.sender.wake()
    return said


async def notice_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    said = await post_notice(bot, user, clean(str(form.get("node", ""))), clean(str(form.get("text", ""))),
                             tiers=[clean(str(t)) for t in form.getall("tier", [])],
                             deadline=clean(str(form.get("deadline", ""))), urgent=bool(form.get("urgent")))
    raise web.HTTPFound("/console/notices?" + urlencode({"said": said}))


async def notices_progress(request: web.Request) -> web.Response:
    """JSON for the notices page's live progress (the same figures as the page and `#回执`)."""
    user, _ = await require(request)
    bot = _bot(request)
    return web.json_response({str(v.notice.number): {
        "delivered": v.delivered, "groups": v.groups, "acknowledged": v.totals.acked_households,
        "households": v.totals.households, "members": v.totals.members, "replied": v.totals.acked,
        "text": v.progress()} for v in await notice_views(bot, user)})


# -- digest preview, exports, audit ----------------------------------------------------------------------

async def digest_page(request: web.Request) -> web.Response:
    from bot.digests import DigestDesk

    user, _ = await require(request)
    bot = _bot(request)
    tree = bot.config.tree
    node = request.query.get("node") or (user.nodes[0] if user.nodes else "")
    if not user.can_see(tree, node):
        raise forbidden(f"节点 {node} ")
    kind = request.query.get("period", "day")
    kind = kind if kind in PERIOD_NAMES else "day"
    try:
        day = date.fromisoformat(request.query.get("at", ""))
    except ValueError:
        day = bot.clock.now().astimezone(bot.config.tz).date()
    period = calendar_period(kind, day, bot.config.tz)
    text, _ = await bot.db.run(lambda s: DigestDesk(s, bot.config, bot.clock.now(), directory=bot.directory,
                                                        bot_id=bot.transport.self_id).compose(node, period),
                               what="digest preview")
    periods = "".join(f"<option value='{k}'{' selected' if k == kind else ''}>{v}</option>"
                      for k, v in PERIOD_NAMES.items())
    form = (f"<form method='get' class='filters'><input name='node' value='{e(node)}'>"
            f"<select name='period'>{periods}</select>"
            f"<input type='date' name='at' value='{day.isoformat()}'><button>预览</button></form>")
    return page("简报预览", form + f"<pre class='digest'>{e(text)}</pre>", user, simulator=_has_simulator(bot))


EXPORT_COLUMNS = ("编号", "状态", "类别", "紧急程度", "网格编码", "网格", "内容", "反映人数", "负责人", "创建时间", "受理时间",
                  "办结时间", "是否上报")


def _export_rows(tickets: Iterable[Any], bot: Any, user: WebUser) -> list[list[Any]]:
    """Export rows; a ticket's text is masked unless the account reads it in full (`WebUser.reads_in_full`)."""
    tree, tz = bot.config.tree, bot.config.tz

    def text(t: Any) -> str:
        return t.text if user.reads_in_full(bot.directory, t.node_code) else mask_personal(t.text)

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def row(t: Any) -> list[Any]:
        return [t.number, STATE_NAMES.get(t.state, t.state), CATEGORY_NAMES.get(t.category, t.category),
                URGENCY_NAMES.get(t.urgency, t.urgency), t.node_code,
                tree.node(t.node_code).name if t.node_code in tree else "", text(t), t.reporter_count,
                bot.config.people[t.assignee].name if t.assignee in bot.config.people else "", when(t.created_at),
                when(t.accepted_at), when(t.resolved_at), "是" if t.escalated else "否"]

    return [[_cell(v) if isinstance(v, str) else v for v in row(t)] for t in tickets]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice may read as a formula


def _cell(text: str) -> str:
    """Spreadsheet cells starting with = + - @ (or a tab or CR before one) are formulas; words must stay words."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def export_csv(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = _bot(request)
    tickets = await query_tickets(request, bot, user, limit=100_000)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_export_rows(tickets, bot, user))
    await audit(request, user, "export", "csv", f"{len(tickets)} tickets")
    return web.Response(body=("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv",
                        charset="utf-8", headers={"Content-Disposition": "attachment; filename=tickets.csv"})


async def export_xlsx(request: web.Request) -> web.Response:
    from openpyxl import Workbook

    user, _ = await require(request)
    bot = _bot(request)
    tickets = await query_tickets(request, bot, user, limit=100_000)
    book = Workbook()
    sheet = book.active
    sheet.title = "工单"
    sheet.append(list(EXPORT_COLUMNS))
    for row in _export_rows(tickets, bot, user):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    await audit(request, user, "export", "xlsx", f"{len(tickets)} tickets")
    return web.Response(body=buffer.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=tickets.xlsx"})


async def audit_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    if user.role != "secretary":
        raise forbidden("操作记录")
    bot = _bot(request)
    rows = await bot.db.run(lambda s: WebRepository(s).audit_log(200), what="audit log")
    body = "<table><tr><th>时间</th><th>账号</th><th>操作</th><th>对象</th><th>说明</th><th>结果</th></tr>" + "".join(
        f"<tr><td>{e(r.at.astimezone(bot.config.tz).strftime('%m-%d %H:%M:%S'))}</td><td>{e(r.username)}</td>"
        f"<td>{e(r.action)}</td><td>{e(r.target)}</td><td class='text'>{e(r.detail)}</td>"
        f"<td>{'允许' if r.allowed else '拒绝'}</td></tr>" for r in rows) + "</table>"
    return page("操作记录", body, user, simulator=_has_simulator(bot))


LIMITER = web.AppKey("login_limiter", auth.LoginLimiter)


def setup(app: web.Application) -> None:
    app[LIMITER] = auth.LoginLimiter()
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    app.router.add_get("/console", overview)
    app.router.add_get("/console/tree", tree_page)
    app.router.add_get("/console/tickets", tickets_page)
    app.router.add_get("/console/tickets/{number}", ticket_page)
    app.router.add_post("/console/tickets/{number}", ticket_post)
    app.router.add_get("/console/notices", notices_page)
    app.router.add_post("/console/notices", notice_post)
    app.router.add_get("/console/notices/progress", notices_progress)
    app.router.add_get("/console/notices/{number:\\d+}", notice_page)
    app.router.add_get("/console/digest", digest_page)
    app.router.add_get("/console/export.csv", export_csv)
    app.router.add_get("/console/export.xlsx", export_xlsx)
    app.router.add_get("/console/audit", audit_page)
