"""The console for secretaries and leaders (Chinese, server-rendered; every resident's word is escaped).

Pages: overview, the grid tree with counts, tickets (filters, detail, actions), digest preview, audit log; the
notice pages, exports, review queue and login live beside it (notice_pages, exports, review_pages, login). Actions go through TicketDesk / NoticeDesk — the same code as
the chat commands — so the same status messages reach the same groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.digest import PERIOD_NAMES, DigestFigures, calendar_period
from bot.domain.tickets import CATEGORY_NAMES, URGENCY_NAMES, is_overdue
from bot.web.accounts import WebUser
from bot.web.actions import (ACTIONS, STATES, act_on_ticket, forbidden, person_name, query_tickets, state_name,
                             ticket_filters)
from bot.web.forms import bad_request, clean, whole_number
from bot.web.keys import bot_of
from bot.web.pages import audit, e, has_simulator, page, posted_form, require
from bot.web.review_pages import pending
from storage.models import MessageRow, TicketEventRow, TicketReporterRow, TicketRow
from storage.ticket_repository import TicketRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import WorkSession

PAGE = 50


def _ticket_rows(tickets: Iterable[TicketRow], bot: GridBot) -> str:
    tree, now = bot.config.tree, bot.clock.now()
    rows = []
    for t in tickets:
        overdue = is_overdue(t.state, t.due_at, t.breached, now)
        node = tree.node(t.node_code).name if t.node_code in tree else t.node_code
        rows.append(
            f"<tr class='{'overdue' if overdue else ''} {e(t.urgency)}'><td><a href='/console/tickets/{t.number}'>"
            f"#{t.number}</a></td><td>{e(state_name(t.state))}{'·超时' if overdue else ''}</td>"
            f"<td>{e(CATEGORY_NAMES.get(t.category, t.category))}</td><td>{e(URGENCY_NAMES.get(t.urgency))}</td>"
            f"<td>{e(node)}</td><td class='text'>{e(t.text[:80])}</td><td>{t.reporter_count}</td>"
            f"<td>{e(t.created_at.astimezone(bot.config.tz).strftime('%m-%d %H:%M'))}</td></tr>")
    return ("<table class='tickets'><tr><th>编号</th><th>状态</th><th>类别</th><th>紧急</th><th>网格</th><th>内容</th>"
            "<th>人数</th><th>时间</th></tr>" + "".join(rows) + "</table>")


async def overview(request: web.Request) -> web.Response:
    from bot.digests import DigestDesk

    user, _ = await require(request)
    bot = bot_of(request)
    top = user.nodes[0] if user.nodes else None
    if top is None:
        return page("概览", "<p>这个账号没有可查看的范围。</p>", user)
    today = bot.clock.now().astimezone(bot.config.tz).date()

    async def work(session: WorkSession) -> tuple[DigestFigures, DigestFigures, list[TicketRow], list[TicketRow]]:
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

    held = await pending(bot, user, limit=5)

    def figures(name: str, f: DigestFigures) -> str:
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
    return page("概览", body, user, simulator=has_simulator(bot))


async def tree_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
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
    return page("网格树", "<ul class='tree'>" + "".join(items) + "</ul>", user, simulator=has_simulator(bot))


def _options(values: Iterable[tuple[str, str]], chosen: str) -> str:
    return "<option value=''>全部</option>" + "".join(
        f"<option value='{e(v)}'{' selected' if v == chosen else ''}>{e(label)}</option>" for v, label in values)


async def tickets_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
    f = ticket_filters(request)
    offset = whole_number(request.query.get("offset", "0"))
    if offset is None:
        raise bad_request("offset 必须是整数。")
    tickets = await query_tickets(request, bot, user, limit=PAGE + 1, offset=offset)
    more = len(tickets) > PAGE
    states = [("open", "未办结"), *((s, state_name(s)) for s in STATES)]
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
                simulator=has_simulator(bot))


async def load_ticket(request: web.Request, bot: GridBot, user: WebUser) -> TicketRow:
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
    bot = bot_of(request)
    ticket = await load_ticket(request, bot, user)
    tz = bot.config.tz

    async def details(session: WorkSession) -> tuple[list[TicketEventRow], list[TicketReporterRow], list[MessageRow]]:
        repo = TicketRepository(session)
        return (await repo.timeline(ticket.id), await repo.reporters(ticket.id),
                await WebRepository(session).messages_of(ticket.id))

    timeline, reporters, messages = await bot.db.run(details, what="ticket detail")
    node = bot.config.tree.node(ticket.node_code)
    flash = request.query.get("said", "")
    body = [("<p class='flash'>" + e(flash) + "</p>") if flash else "",
            f"<dl><dt>状态</dt><dd>{e(state_name(ticket.state))}"
            f"{'（已上报 ' + str(ticket.escalation_level) + ' 级）' if ticket.escalation_level else ''}</dd>"
            f"<dt>类别</dt><dd>{e(CATEGORY_NAMES.get(ticket.category))} · {e(URGENCY_NAMES.get(ticket.urgency))}</dd>"
            f"<dt>网格</dt><dd>{e(node.name)} <code>{e(node.code)}</code></dd>"
            f"<dt>负责人</dt><dd>{e(person_name(bot, ticket.assignee, '—'))}</dd>"
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
    return page(f"工单 #{ticket.number}", "".join(body), user, simulator=has_simulator(bot))


async def ticket_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    ticket = await load_ticket(request, bot, user)
    said = await act_on_ticket(bot, user, ticket.number, str(form.get("action", "")),
                               clean(str(form.get("note", ""))), clean(str(form.get("target", ""))))
    raise web.HTTPFound(f"/console/tickets/{ticket.number}?" + urlencode({"said": said}))


# -- digest preview, exports, audit ----------------------------------------------------------------------

async def digest_page(request: web.Request) -> web.Response:
    from bot.digests import DigestDesk

    user, _ = await require(request)
    bot = bot_of(request)
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
    return page("简报预览", form + f"<pre class='digest'>{e(text)}</pre>", user, simulator=has_simulator(bot))



async def audit_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    if user.role != "secretary":
        raise forbidden("操作记录")
    bot = bot_of(request)
    rows = await bot.db.run(lambda s: WebRepository(s).audit_log(200), what="audit log")
    body = "<table><tr><th>时间</th><th>账号</th><th>操作</th><th>对象</th><th>说明</th><th>结果</th></tr>" + "".join(
        f"<tr><td>{e(r.at.astimezone(bot.config.tz).strftime('%m-%d %H:%M:%S'))}</td><td>{e(r.username)}</td>"
        f"<td>{e(r.action)}</td><td>{e(r.target)}</td><td class='text'>{e(r.detail)}</td>"
        f"<td>{'允许' if r.allowed else '拒绝'}</td></tr>" for r in rows) + "</table>"
    return page("操作记录", body, user, simulator=has_simulator(bot))




def setup(app: web.Application) -> None:
    app.router.add_get("/console", overview)
    app.router.add_get("/console/tree", tree_page)
    app.router.add_get("/console/tickets", tickets_page)
    app.router.add_get("/console/tickets/{number}", ticket_page)
    app.router.add_post("/console/tickets/{number}", ticket_post)
    app.router.add_get("/console/digest", digest_page)
    app.router.add_get("/console/audit", audit_page)
