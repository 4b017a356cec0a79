"""Resident reports: acknowledge what was understood and name who answers for it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.people import Holder
from bot.messages import IncomingMessage, Reply
from handlers.base import Context
from handlers.commands import reply_to

CATEGORY_NAMES = {
    "safety": "安全隐患", "sanitation": "环境卫生", "repair": "设施维修", "dispute": "邻里纠纷",
    "assistance": "帮扶求助", "security": "治安", "health": "医疗健康", "inquiry": "政策咨询", "other": "其他",
}
URGENCY_NAMES = {"urgent": "紧急", "normal": "一般", "low": "不急"}


@dataclass(frozen=True, slots=True)
class ReportArgs:
    category: str
    urgency: str
    where: str
    holder: Holder | None


def describe_location(location: object) -> str:
    """'3号楼2单元201室，南门' from a parsed location (fields may be missing)."""
    building = getattr(location, "building", None)
    unit = getattr(location, "unit", None)
    room = getattr(location, "room", None)
    place = getattr(location, "place", None)
    parts = "".join(p for p in (building and f"{building}号楼", unit and f"{unit}单元", room and f"{room}室") if p)
    return "，".join(p for p in (parts, place) if p)


class ReportHandler:
    """A message the parser calls a report, in a configured group."""

    name = "report"

    def match(self, msg: IncomingMessage, ctx: Context) -> ReportArgs | None:
        result = ctx.parse
        if result is None or result.kind != "report" or ctx.node is None:
            return None
        holder = ctx.directory.responsible(ctx.node.code)
        return ReportArgs(result.category or "other", result.urgency or "normal",
                          describe_location(result.location), holder)

    async def handle(self, msg: IncomingMessage, args: ReportArgs, ctx: Context) -> list[Reply]:
        what = f"{CATEGORY_NAMES.get(args.category, args.category)}·{URGENCY_NAMES.get(args.urgency, args.urgency)}"
        where = f"，位置：{args.where}" if args.where else ""
        text = f"已收到您的反映（{what}{where}）。"
        mentions: tuple[str, ...] = ()
        if args.holder is not None:
            person = args.holder.person
            text += f"已转 @{person.name}（{args.holder.role}）跟进。"
            mentions = (person.wechat_id or person.key,)
        reply = reply_to(msg, text, priority=0 if args.urgency == "urgent" else 5, kind="report_ack")
        return [Reply(to=reply.to, text=reply.text, mentions=reply.mentions + mentions,
                      priority=reply.priority, kind=reply.kind)]
