"""A notice's figures as an Excel file: the detail page's figures, one row per household, names masked, audited."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.domain.privacy import mask_personal
from bot.web.exports import FORMULA_STARTS
from bot.web.forms import whole_number
from bot.web.keys import bot_of
from bot.web.notice_figures import STATUS_NAMES, NoticeDetail, notice_detail
from bot.web.pages import audit, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_COLUMNS = ("层级", "群数", "全部回复的群", "已回复户", "户数", "已回复人", "人数")
GROUP_COLUMNS = ("群", "层级", "已回复户", "户数", "已回复人", "人数")
HOUSEHOLD_COLUMNS = ("群", "层级", "户", "群成员", "是否回复", "回复人")
REMINDER_COLUMNS = ("时间", "群", "@人数", "消息条数", "状态")
FAILURE_COLUMNS = ("群", "原因", "已重试次数")


def _text(value: str) -> str:
    """Words stay words (never a formula), and mobile and ID-card numbers in them are masked."""
    value = mask_personal(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _row(values: Iterable[Any]) -> list[Any]:
    return [_text(v) if isinstance(v, str) else v for v in values]


def workbook(detail: NoticeDetail, tz: Any) -> bytes:
    """Sheets 汇总 (totals and by tier), 按群, 按户, 提醒, 发送失败: the same figures as the detail page."""
    from openpyxl import Workbook

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    v, n = detail.view, detail.view.notice
    t = v.totals
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    for label, value in (("通知", f"#{n.number}"), ("内容", n.text), ("发出时间", when(n.created_at)),
                         ("截止", when(n.deadline)), ("范围", "全部" if v.within is None else "仅您负责的范围"),
                         ("已送达群", v.delivered), ("群数", v.groups), ("发送失败的群", len(detail.failures)),
                         ("已回复户", t.acked_households), ("户数", t.households), ("已回复人", t.acked),
                         ("人数", t.members)):
        summary.append(_row([label, value]))
    summary.append([])
    summary.append(list(SUMMARY_COLUMNS))
    for tier in detail.tiers:
        summary.append(_row([tier.tier, tier.rooms, tier.complete_rooms, tier.acked_households, tier.households,
                             tier.acked, tier.members]))
    sheets: list[tuple[str, tuple[str, ...], list[list[Any]]]] = [
        ("按群", GROUP_COLUMNS, [[detail.name(r.room_key), r.tier, r.acked_households, r.households, r.acked,
                                 r.members] for r in v.rooms]),
        ("按户", HOUSEHOLD_COLUMNS, [[detail.name(h.room_key), h.tier, h.household, "、".join(h.members),
                                    "是" if h.replied else "否", "、".join(h.replied)] for h in detail.households]),
        ("提醒", REMINDER_COLUMNS, [[when(r.at), detail.name(r.room_key), r.mentioned, r.messages,
                                    STATUS_NAMES.get(r.status, r.status)] for r in detail.reminders]),
        ("发送失败", FAILURE_COLUMNS, [[detail.name(f.room_key), f.cause, f.attempts] for f in detail.failures]),
    ]
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append(_row(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def export_notice(request: web.Request) -> web.Response:
    """`/console/notices/<n>/export.xlsx`, in the account's view; every export is in the audit log."""
    user, _ = await require(request)
    bot = bot_of(request)
    number = whole_number(request.match_info["number"])
    detail = await notice_detail(bot, user, number) if number is not None else None
    if detail is None:
        raise web.HTTPNotFound(text="没有找到这条通知，或它没有发到您负责的范围。")
    body = workbook(detail, bot.config.tz)
    await audit(request, user, "export", f"notice:{number}",
                f"xlsx: {len(detail.view.rooms)} 个群、{len(detail.households)} 户")
    return web.Response(body=body, content_type=XLSX,
                        headers={"Content-Disposition": f"attachment; filename=notice-{number}.xlsx"})
