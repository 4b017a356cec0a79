"""The console's 关爱台账 and 走访记录: the care residents of a part of the tree, their visits and the month's coverage.

Shown only to an account whose person holds a care duty (`care.duty_roles`) on the node or above
(`bot.domain.care.may_see_care`): the ledger says who is old, ill and alone. Everyone else gets a 403, logged.
Phone and ID numbers in notes are masked; the family is named, never their WeChat ids. Nothing here reaches the
exports or the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from bot.config.schema import CareResident
from bot.domain.care import CALL, VISIT, StepKind, Visit, coverage, may_see_care, overdue_visits, unvisited
from bot.domain.care import wording
from bot.domain.privacy import mask_personal
from bot.web.accounts import WebUser
from bot.web.actions import forbidden, person_name
from bot.web.keys import bot_of
from bot.web.pages import audit, render, require
from bot.work import Work, perform
from storage.care_repository import CareRepository

if TYPE_CHECKING:
    from bot.app import GridBot

VISITS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One resident as the ledger page shows them."""

    resident: CareResident
    responsible: str
    last_visit: datetime | None
    last_call: datetime | None
    overdue: tuple[str, ...]  # "走访", "电话"
    today: str  # today's 报平安, in words
    alarm: bool  # nobody has heard from them today and helpers were asked


def care_duty(bot: GridBot, user: WebUser) -> list[str]:
    """The highest nodes the account's person holds a care duty on, within the account's scope."""
    if user.person is None:
        return []
    tree = bot.config.tree
    roles = bot.config.care.duty_roles
    codes = [code for code, role in bot.directory.positions(user.person.key)
             if role in roles and user.can_see(tree, code)]
    return [c for c in codes if not any(o != c and tree.is_within(c, o) for o in codes)]


async def care_nodes(request: web.Request, bot: GridBot, user: WebUser) -> list[str]:
    """The nodes the page shows (?node=, else the account's care duty); 403, logged, without the right."""
    tree = bot.config.tree
    asked = request.query.get("node", "").strip()
    if not asked:
        nodes = care_duty(bot, user)
        if nodes:
            return nodes
        await audit(request, user, "view", "care", "没有关爱职责", allowed=False)
        raise web.HTTPForbidden(text="关爱台账只给有关爱职责的人（楼道长、微网格长、网格长、社区书记等）查看。",
                                content_type="text/plain")
    positions = bot.directory.positions(user.person.key) if user.person is not None else []
    if not (user.can_see(tree, asked) and may_see_care(positions, asked, tree, bot.config.care.duty_roles)):
        await audit(request, user, "view", f"care:{asked}", "没有关爱职责", allowed=False)
        raise forbidden(f"节点 {asked} 的关爱台账")
    return [asked]


def _residents(bot: GridBot, nodes: list[str]) -> list[CareResident]:
    tree = bot.config.tree
    return [r for r in bot.config.care.residents if any(tree.is_within(r.entry.node_code, n) for n in nodes)]


def _hm(bot: GridBot, moment: datetime) -> str:
    return moment.astimezone(bot.config.tz).strftime("%H:%M")


def _today(bot: GridBot, resident: CareResident, state: tuple | None) -> tuple[str, bool]:
    """Today's 报平安 in words, and whether helpers are out looking."""
    if resident.check_in is None or state is None:
        return "不报平安", False
    step, done = state
    if StepKind.ANSWERED.value in done:
        return f"已报平安 {_hm(bot, done[StepKind.ANSWERED.value])}", False
    if StepKind.TICKET.value in done:
        return "仍无回复：已开紧急工单", True
    if step.kind is StepKind.PAUSED:
        return "暂停中（本人或家属说过不在家）", False
    if StepKind.ALERT.value in done:
        return "未回复：已告知家属和网格长", True
    if StepKind.LOOK_IN.value in done:
        return "未回复：已请楼道长上门查看", True
    if StepKind.PROMPT.value in done:
        return f"{_hm(bot, done[StepKind.PROMPT.value])} 已问候，等待回复", False
    return f"今天 {resident.check_in.at.strftime('%H:%M')} 问候", False


async def _visits(work: Work, residents: list[CareResident]) -> list[Visit]:
    rows = await CareRepository(work.session).visits([r.entry.key for r in residents])
    return [Visit(v.entry_key, v.at, v.kind, v.by, v.note) for v in rows]


async def care_page(request: web.Request) -> web.Response:
    """关爱台账: kinds, responsible person, last visit and call, overdue, today's 报平安."""
    user, _ = await require(request)
    bot = bot_of(request)
    nodes = await care_nodes(request, bot, user)
    residents = _residents(bot, nodes)

    async def job(work: Work) -> tuple[list[Visit], dict]:
        return await _visits(work, residents), await work.care.today_states(residents)

    visits, states = await perform(bot.services, job, what="care ledger", wake=False)
    late: dict[str, list[str]] = {}
    for item in overdue_visits([r.entry for r in residents], visits, bot.clock.now()):
        late.setdefault(item.entry.key, []).append("电话" if item.kind == CALL else "走访")
    rows = []
    for resident in residents:
        key = resident.entry.key
        mine = [v for v in visits if v.entry_key == key]
        today, alarm = _today(bot, resident, states.get(key))
        rows.append(LedgerRow(resident, person_name(bot, resident.entry.responsible, resident.entry.responsible),
                              max((v.at for v in mine if v.kind == VISIT), default=None),
                              max((v.at for v in mine if v.kind == CALL), default=None),
                              tuple(late.get(key, ())), today, alarm))
    rows.sort(key=lambda r: (not r.alarm, not r.overdue))  # who needs someone now first
    return render(request, "care.html", "关爱台账", user, rows=rows, nodes=nodes, mask=mask_personal,
                  every=_every)


def _every(resident: CareResident) -> str:
    entry = resident.entry
    parts = [f"每 {entry.visit_every.days} 天走访" if entry.visit_every else "",
             f"每 {entry.call_every.days} 天电话" if entry.call_every else ""]
    return "，".join(p for p in parts if p) or "—"


async def visits_page(request: web.Request) -> web.Response:
    """走访记录: the month's coverage by the next level down ("本月应访 42 户，已访 37 户"), then the visits."""
    user, _ = await require(request)
    bot = bot_of(request)
    nodes = await care_nodes(request, bot, user)
    residents = _residents(bot, nodes)
    visits = await perform(bot.services, lambda work: _visits(work, residents), what="care visits", wake=False)
    tree = bot.config.tree
    tz = bot.config.timezone
    month = bot.clock.now().astimezone(bot.config.tz).date()
    entries = [r.entry for r in residents]
    total = wording.coverage_text(coverage(entries, visits, month, tz))
    groups = []
    for top in nodes:
        for child in (tree.children(top) or (tree.node(top),)):
            mine = [e for e in entries if tree.is_within(e.node_code, child.code)]
            if mine:
                groups.append((child, wording.coverage_text(coverage(mine, visits, month, tz),
                                                            missing=unvisited(mine, visits, month, tz))))
    names = {r.entry.key: r.entry for r in residents}
    shown = sorted(visits, key=lambda v: v.at, reverse=True)[:VISITS_SHOWN]
    return render(request, "care_visits.html", "走访记录", user, total=total, groups=groups, visits=shown,
                  entries=names, nodes=nodes, mask=mask_personal,
                  who=lambda key: person_name(bot, key, key), kind_name={VISIT: "走访", CALL: "电话"})


def setup(app: web.Application) -> None:
    app.router.add_get("/console/care", care_page)
    app.router.add_get("/console/care/visits", visits_page)
