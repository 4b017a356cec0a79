"""Every sentence the care feature says, in one place: a reviewer reads what residents and helpers will read.

Short sentences for the residents (many are over 80 and read on a small phone); for helpers the name, the
address, and how long nobody has heard from the resident, because those are what they act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.care.checkin import Reply
from bot.domain.care.ledger import CareEntry
from bot.domain.care.pauses import Pause
from bot.domain.care.visits import CALL, Coverage, Overdue, Resolved, VisitDraft
from bot.domain.sla import format_duration

TICKET_TITLE = "独居老人无法联系"
TICKET_TITLE_OTHER = "关爱对象无法联系"


def _hm(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.hour}:{local.minute:02d}"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def who(entry: CareEntry, place: str = "") -> str:
    """'吴奶奶（1号楼1单元 1-1-601）': the resident as a helper finds them."""
    where = " ".join(p for p in (place, entry.address) if p)
    return f"{entry.name}（{where}）" if where else entry.name


def prompt_text(entry: CareEntry) -> str:
    """The morning prompt: '张奶奶，今天好吗？回复 1 报平安'."""
    return f"{entry.name}，今天好吗？回复 1 报平安"


def look_in_text(entry: CareEntry, prompted_at: datetime, now: datetime, *, place: str = "",
                 timezone: str = "Asia/Shanghai") -> str:
    """To the 楼道长/微网格长: nobody has answered, please knock on the door."""
    waited = format_duration(now - prompted_at)
    return (f"{who(entry, place)}今天 {_hm(prompted_at, timezone)} 的报平安，{waited}了还没有回复。"
            f"麻烦您上门或打个电话看看，见到了请回我一声。")


def alert_text(entry: CareEntry, prompted_at: datetime, now: datetime, *, asked: Sequence[str] = (),
               place: str = "", timezone: str = "Asia/Shanghai") -> str:
    """To the family proxy and the grid leader: still nothing, after the first helpers were asked."""
    waited = format_duration(now - prompted_at)
    helpers = f"已请{'、'.join(asked)}上门查看，还没有回音。" if asked else ""
    return (f"【报平安未回复】{who(entry, place)}今天 {_hm(prompted_at, timezone)} 的报平安，{waited}没有回复，"
            f"{helpers}请家属马上打电话或回家看看，网格长请跟进；联系上了请回我一声。")


def ticket_title(entry: CareEntry) -> str:
    """'独居老人无法联系' (another kind of resident: '关爱对象无法联系')."""
    return TICKET_TITLE if entry.lives_alone else TICKET_TITLE_OTHER


def ticket_text(entry: CareEntry, prompted_at: datetime, now: datetime, *, asked: Sequence[str] = (),
                place: str = "", timezone: str = "Asia/Shanghai") -> str:
    """The urgent ticket: who, where, since when, and who has already tried."""
    waited = format_duration(now - prompted_at)
    tried = f"已请{'、'.join(asked)}查看并告知家属，" if asked else ""
    return (f"{ticket_title(entry)}：{who(entry, place)}今天 {_hm(prompted_at, timezone)} 起{waited}未报平安，"
            f"{tried}仍联系不上。请立即上门，必要时联系民警或打120。")


def answered_text(entry: CareEntry, reply: Reply, *, timezone: str = "Asia/Shanghai") -> str:
    """To the helpers already asked: the resident answered, stand down."""
    by = "" if reply.by_subject else "（有人代为确认）"
    return f"{entry.name} {_hm(reply.at, timezone)} 已报平安{by}，不用再跑了，谢谢您！"


def pause_ack_text(entry: CareEntry, pause: Pause, *, by_proxy: bool = False) -> str:
    """The acknowledgement of a pause, to the resident or to the relative who announced it."""
    span = _md(pause.start) if pause.start == pause.end else f"{_md(pause.start)}到{_md(pause.end)}"
    back = _md(pause.end + timedelta(days=1))  # it resumes by itself: nobody has to remember to say so
    if by_proxy:
        return (f"收到，{entry.name}{span}（{pause.reason}）暂停每天的报平安，{back}起恢复。"
                f"提前回来的话，请{entry.name}给我回一条消息就行。")
    return (f"{entry.name}，收到！{span}（{pause.reason}）不用报平安，{back}起恢复。"
            f"提前回来了，给我回一条消息就行。祝您一切顺利！")


def holiday_text(day: date) -> str:
    """Why there was no prompt on a public holiday (for the console or a helper who asks)."""
    return f"{_md(day)}是节假日，不发报平安。"


def visit_ack_text(entries: Sequence[CareEntry], draft: VisitDraft, at: datetime, *,
                   timezone: str = "Asia/Shanghai") -> str:
    """'已记录 3月5日 走访：5-601 林阿婆（已上门，身体好）'."""
    day = _md(at.astimezone(ZoneInfo(timezone)).date())
    what = "电话关心" if draft.kind == CALL else "走访"
    names = "、".join(f"{e.address} {e.name}".strip() for e in entries)
    note = f"（{draft.note}）" if draft.note else ""
    photo = "，照片已附上" if draft.photo else ""
    return f"已记录 {day} {what}：{names}{note}{photo}。"


def visit_problem_text(resolved: Resolved) -> str | None:
    """What to say about targets that matched no one or several (None when all were found)."""
    lines = []
    if resolved.unknown:
        lines.append(f"关爱台账里没有找到：{'、'.join(resolved.unknown)}，请核对门牌或称呼。")
    for target, candidates in resolved.ambiguous:
        options = "、".join(f"{e.address} {e.name}".strip() for e in candidates)
        lines.append(f"“{target}”有 {len(candidates)} 位：{options}，请写门牌号。")
    return "\n".join(lines) or None


def visit_usage_text() -> str:
    """The reply to a `#走访` that names nobody."""
    return "请写上门牌或称呼，例如：#走访 5-601 已上门，身体好"


def overdue_text(items: Sequence[Overdue], now: datetime, *, timezone: str = "Asia/Shanghai") -> str:
    """A reminder listing who is due a visit or a call, most overdue first."""
    lines = [f"以下 {len(items)} 位关爱对象该去看看了："]
    for item in items:
        what = "电话" if item.kind == CALL else "走访"
        if item.last is None:
            since = f"还没有{what}记录"
        else:
            since = f"上次{what} {_md(item.last.astimezone(ZoneInfo(timezone)).date())}"
        late = f"，已超 {format_duration(now - item.due)}" if item.due is not None and now > item.due else ""
        lines.append(f"· {item.entry.address} {item.entry.name}：{since}{late}")
    return "\n".join(lines)


def coverage_text(cov: Coverage, *, label: str = "本月", missing: Sequence[CareEntry] = (),
                  show: int = 10) -> str:
    """'本月应访 42 户，已访 37 户（88%）', and the first households still to visit."""
    share = f"（{cov.done * 100 // cov.due}%）" if cov.due else ""
    text = f"{label}应访 {cov.due} 户，已访 {cov.done} 户{share}"
    if missing:
        names = "、".join(f"{e.address} {e.name}".strip() for e in missing[:show])
        more = f" 等 {len(missing)} 户" if len(missing) > show else ""
        text += f"；未访：{names}{more}"
    return text


def prompt_in_group_text(entry: CareEntry, nickname: str) -> str:
    """The morning prompt in a group, @-ing the resident: '@1-1-601 吴奶奶 今天好吗？回复 1 报平安'."""
    return f"@{nickname} 今天好吗？回复 1 报平安"


def thanks_text(entry: CareEntry, *, by_proxy: bool = False) -> str:
    """To the resident (or the proxy) who answered in the private chat: heard, nothing else to do."""
    if by_proxy:
        return f"收到，已记下{entry.name}今天平安，谢谢您！"
    return f"收到，谢谢{entry.name}！祝您一天顺心。"


def confirmed_text(entry: CareEntry) -> str:
    """To a helper who says they have seen the resident."""
    return f"谢谢您！已记下{entry.name}平安，其他人不用再跑了。"


def ticket_opened_text(entry: CareEntry, number: int) -> str:
    """To the helpers already asked, when nobody could reach the resident: the urgent ticket's number."""
    return f"{entry.name}仍然联系不上，已开紧急工单 #{number}，社区会马上派人上门。见到了请回我一声。"


def visit_forbidden_text() -> str:
    """The reply to `#走访` from someone without a care duty."""
    return "#走访 / #电访 是关爱责任人（楼道长、微网格长、网格长等）记录走访用的命令。"


def overdue_reminder_text(items: Sequence[Overdue], now: datetime, *, timezone: str = "Asia/Shanghai") -> str:
    """The day's private reminder to a responsible person: whom they are late to see, and how to record it."""
    return (overdue_text(items, now, timezone=timezone)
            + "\n看过之后发“#走访 地址 情况”（电话关心发“#电访 …”）记一笔，今天不再提醒。")
