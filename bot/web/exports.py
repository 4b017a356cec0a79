"""CSV and Excel exports of the console's ticket list (same filters, same scope; masked unless read in full)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.domain.privacy import mask_personal
from bot.domain.tickets import CATEGORY_NAMES, URGENCY_NAMES
from bot.web.accounts import WebUser
from bot.web.actions import person_name, query_tickets, state_name
from bot.web.keys import bot_of
from bot.web.pages import audit, require
from storage.models import TicketRow

if TYPE_CHECKING:
    from bot.app import GridBot

EXPORT_COLUMNS = ("编号", "状态", "类别", "紧急程度", "网格编码", "网格", "内容", "反映人数", "负责人", "创建时间", "受理时间",
                  "办结时间", "是否上报")


def _export_rows(tickets: Iterable[TicketRow], bot: GridBot, user: WebUser) -> list[list[Any]]:
    """Export rows; a ticket's text is masked unless the account reads it in full (`WebUser.reads_in_full`)."""
    tree, tz = bot.config.tree, bot.config.tz

    def text(t: TicketRow) -> str:
        return t.text if user.reads_in_full(bot.directory, t.node_code) else mask_personal(t.text)

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def row(t: TicketRow) -> list[Any]:
        return [t.number, state_name(t.state), CATEGORY_NAMES.get(t.category, t.category),
                URGENCY_NAMES.get(t.urgency, t.urgency), t.node_code,
                tree.node(t.node_code).name if t.node_code in tree else "", text(t), t.reporter_count,
                person_name(bot, t.assignee), when(t.created_at),
                when(t.accepted_at), when(t.resolved_at), "是" if t.escalated else "否"]

    return [[_cell(v) if isinstance(v, str) else v for v in row(t)] for t in tickets]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice may read as a formula


def _cell(text: str) -> str:
    """Spreadsheet cells starting with = + - @ (or a tab or CR before one) are formulas; words must stay words."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def export_csv(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
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
    bot = bot_of(request)
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



def setup(app: web.Application) -> None:
    app.router.add_get("/console/export.csv", export_csv)
    app.router.add_get("/console/export.xlsx", export_xlsx)
