"""Every sentence the bot says about tickets, to residents, handlers and the groups above them.

Read this file to see what people will read; the desk and the audience decide only when and to whom.
(Longer than most modules, on purpose: every ticket sentence in one place is the point of it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.people import Holder
from bot.domain.sla import format_duration
from bot.domain.tickets import CATEGORY_NAMES, OPEN_STATES, STATE_NAMES, URGENCY_NAMES, Action, State, is_overdue
from storage.models import TicketRow

ACTION_NAMES = {
    Action.ACCEPT: "已受理", Action.RESOLVE: "已办结", Action.CONFIRM: "已确认解决并关闭", Action.REOPEN: "已重新打开",
    Action.CLOSE: "已关闭", Action.CANCEL: "已撤销", Action.ESCALATE: "已上报", Action.REASSIGN: "已转派",
    Action.MERGE_INTO: "已合并", Action.SPLIT: "已拆分",
}
SKIP_REASONS = {"unreachable": "无法联系（没有微信号，也不在任何群里）", "party": "是反映问题的当事人，回避"}
_VERBS = {Action.ACCEPT: "受理", Action.RESOLVE: "办结", Action.CLOSE: "关闭", Action.CANCEL: "撤销",
          Action.REOPEN: "重开", Action.CONFIRM: "确认"}
SYSTEM = "系统"  # the actor named in the timeline when nobody in particular acted
NO_HOLDER = "暂无负责人，已转社区。"
PLEASE_LOOK = "请关注。"
NEED_TWO_NUMBERS = "请写两个工单号，例如：#合并 1024 1025（把 1025 并入 1024）"
SAME_NUMBER_TWICE = "请写两个不同的工单号。"
NO_GRIDS = "您没有负责的网格，暂无工单。"
ALL_CLEAR = "您负责的网格目前没有未办结的工单。👍"


# -- pieces ------------------------------------------------------------------------------------------

def location_text(ticket: TicketRow) -> str:
    """'3号楼2单元301室，楼道' from the ticket's address fields."""
    parts = "".join(p for p in (ticket.building and f"{ticket.building}号楼", ticket.unit and f"{ticket.unit}单元",
                                ticket.room_no and f"{ticket.room_no}室") if p)
    return "，".join(p for p in (parts, ticket.place) if p)


def short_text(text: str, limit: int = 40) -> str:
    """The text on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(moment: datetime | None, tz: Any) -> str:
    """'11月23日 09:30' in the deployment's time zone, '—' for none."""
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%m月%d日 %H:%M")


def verb(action: Action) -> str:
    """The bare verb of an action, for "不能…"."""
    return _VERBS.get(action, action.value)


def state_name(ticket: TicketRow) -> str:
    """The ticket's state in words."""
    return STATE_NAMES[State(ticket.state)]


def holder_label(holder: Holder) -> str:
    """'钱老师（网格长）'."""
    return f"{holder.person.name}（{holder.role}）"


def kind_of(ticket: TicketRow) -> str:
    """'设施维修·一般' (an unknown category by its code)."""
    return f"{CATEGORY_NAMES.get(ticket.category, ticket.category)}·{URGENCY_NAMES.get(ticket.urgency)}"


def _about(ticket: TicketRow) -> str:
    return f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）"


def _holder_name(holder: Holder | None) -> str:
    return holder.person.name if holder else "待定"


# -- refusals and answers ------------------------------------------------------------------------------

def not_found(number: int) -> str:
    """A number that is no ticket."""
    return f"没有找到工单 #{number}，请核对编号。"


def not_yours(number: int) -> str:
    """Someone acting on a ticket outside their grids."""
    return f"抱歉，工单 #{number} 不在您负责的范围内，不能操作。如需处理请联系该网格负责人。"


def not_yours_to(number: int, what: str) -> str:
    """The same for merging or splitting ('合并', '拆分')."""
    return f"抱歉，工单 #{number} 不在您负责的范围内，不能{what}。"


def not_yours_to_merge(number: int, other: int) -> str:
    """Either ticket of a #合并 outside the person's grids."""
    return f"抱歉，工单 #{number} 或 #{other} 不在您负责的范围内，不能合并。"


def cannot(ticket: TicketRow, action: Action) -> str:
    """An action the ticket's state does not allow."""
    return f"工单 #{ticket.number} 现在是“{state_name(ticket)}”，不能{verb(action)}。"


def already(ticket: TicketRow, what: str) -> str:
    """A refusal naming the state the ticket is in, then `what` ('不用上报', '不能转派', '不能拆分')."""
    return f"工单 #{ticket.number} 已{state_name(ticket)}，{what}。"


def cannot_merge(ticket: TicketRow, *, target: bool) -> str:
    """A closed ticket in a #合并; the one to merge into could be reopened first."""
    return f"工单 #{ticket.number} 已{state_name(ticket)}，不能合并" + ("（可先 #重开）。" if target else "。")


def at_the_top(ticket: TicketRow, top_name: str) -> str:
    """Nothing higher to escalate to."""
    return f"工单 #{ticket.number} 已在最高一级（{top_name}）。"


def single_reporter(number: int) -> str:
    """A #拆分 of a ticket only one person reported."""
    return f"工单 #{number} 只有一位反映人，没有可拆分的。"


def unknown_target(target: str, number: int) -> str:
    """A #转派 to nobody known."""
    return f"没有找到“{target[:20]}”。请写人员姓名或网格编码，例如 #转派 {number} 何警官"


# -- a new report -------------------------------------------------------------------------------------

def joined(ticket: TicketRow, holder: Holder | None, *, added: bool, raised: bool = False) -> str:
    """A report of a problem already ticketed: the reporter joins it (or had already); raised: what they said made
    it urgent."""
    who = ""
    if holder is not None:  # "正在跟进" only once someone has taken it on, never beside "待受理"
        following = ticket.state == State.ACCEPTED.value
        who = f"，{holder_label(holder)}{'正在跟进' if following else '负责'}"
    urgent = "已按紧急处理，负责人和上一级都已通知。" if raised else ""
    if added:
        return (f"同样的问题已有工单 #{ticket.number}（{state_name(ticket)}），"
                f"已把您加入，共 {ticket.reporter_count} 人反映{who}。{urgent}")
    return f"您已反映过这个问题，工单 #{ticket.number}（{state_name(ticket)}）{who}。{urgent}"


def merge_note(text: str, *, raised: bool) -> str:
    """The timeline's note of a report joined to a ticket."""
    return ("升为紧急：" if raised else "") + short_text(text, 200)


def raised_for_holder(ticket: TicketRow, text: str, tz: Any) -> str:
    """The handler hears that a later report made their ticket urgent, and the new deadline."""
    due = f"，请在{local_time(ticket.due_at, tz)}前处理" if ticket.due_at is not None else ""
    return f"⚠️工单 #{ticket.number} 升为紧急，有人反映：{short_text(text)}（{kind_of(ticket)}）{due}。"


def opened(ticket: TicketRow, holder: Holder | None, *, advice: str | None, holder_here: bool,
           accept_within: timedelta, tz: Any, also_told: str | None) -> str:
    """The reporter's receipt: safety advice if urgent, the number, who has it and by when, how to follow it."""
    where = location_text(ticket)
    text = f"⚠️{advice.rstrip('。！!')}。" if advice else ""
    text += f"已登记为工单 #{ticket.number}（{kind_of(ticket)}{'，' + where if where else ''}）。"
    if holder is not None:
        if holder_here:
            text += f"由 @{holder_label(holder)}负责"
        else:
            text += f"由 {holder_label(holder)}负责，已通知本人"
        text += f"，{format_duration(accept_within)}内受理（{local_time(ticket.due_at, tz)}前）。"
    else:
        text += NO_HOLDER
    if also_told is not None:
        text += f"已同时通知 {also_told}。"
    return text + f"查进度请发“查询 {ticket.number}”。"


def wording_assigned(ticket: TicketRow, tree: Any, what: str, limit: timedelta) -> str:
    """The line a handler gets for a new ticket where they are (not in the reporter's group)."""
    origin = tree.node(ticket.node_code).name if ticket.node_code in tree else ticket.node_code
    where = location_text(ticket)
    return (f"新工单 #{ticket.number} 派给您：{origin}·{what}{'，' + where if where else ''}：{short_text(ticket.text)}。"
            f"请在{format_duration(limit)}内受理，回复“#受理 {ticket.number}”。")


def urgent_alert(ticket: TicketRow, origin: str, holder: Holder | None) -> str:
    """The tier above hears of an urgent report at once."""
    return (f"【紧急】工单 #{ticket.number} {origin}：{short_text(ticket.text)}"
            f"（{kind_of(ticket)}）。负责人：{_holder_name(holder)}。")


def raised_alert(ticket: TicketRow, origin: str, holder: Holder | None, text: str) -> str:
    """The tier above hears at once that a later report made a ticket urgent, and what it said."""
    return (f"【紧急】工单 #{ticket.number} {origin}：{short_text(ticket.text)}（{kind_of(ticket)}）。"
            f"新反映：{short_text(text)}。负责人：{_holder_name(holder)}。")


def please_look(name: str) -> str:
    """The boss @-ed under the urgent alert in their group."""
    return f" @{name} {PLEASE_LOOK}"


def new_relay(ticket: TicketRow, origin: str, holder: Holder | None) -> str:
    """The tier above's copy of a new ticket (relay: all)."""
    return f"[新工单 #{ticket.number}] {origin}：{short_text(ticket.text)}（{kind_of(ticket)}）→ {_holder_name(holder)}"


def skip_note(passed: Holder, why: str, holder: Holder | None) -> str:
    """The timeline's note of a handler passed over, and who has it instead."""
    to = f" → {holder_label(holder)}" if holder else " → 暂无可联系的负责人"
    return f"{holder_label(passed)}{SKIP_REASONS[why]}{to}"


# -- actions -----------------------------------------------------------------------------------------

def action_summary(ticket: TicketRow, action: Action) -> str:
    """'工单 #1001（3号楼楼道灯坏了）已受理'."""
    return f"{_about(ticket)}{ACTION_NAMES[action]}"


def detail(note: str) -> str:
    """The actor's note after a colon, or nothing."""
    return f"：{note}" if note else ""


def action_status(names: str, summary: str, actor: str, note: str) -> str:
    """The reporters' group hears what was done, by whom."""
    return f"{names} {summary}（{actor}）{detail(note)}。".strip()


def confirm_prompt(auto_close_after: timedelta) -> str:
    """After 办结: the reporter is asked to confirm."""
    return ("问题解决了吗？回复“好了”确认，回复“还没修好”会重新处理；"
            f"{format_duration(auto_close_after)}内没有回复将自动关闭。")


def action_ack(summary: str, note: str) -> str:
    """The actor's own answer where they acted, when not the reporters' group."""
    return f"好的，{summary}{detail(note)}。"


def action_relay(ticket: TicketRow, action: Action, actor: str, note: str) -> str:
    """The tier above's compact copy of an action."""
    return f"[工单 #{ticket.number}] {ACTION_NAMES[action]}（{actor}）{detail(note)}"


def reopened_for_holder(ticket: TicketRow, note: str) -> str:
    """The handler hears that the ticket came back."""
    return f"{_about(ticket)}已重新打开{'：' + note if note else ''}，请再处理。"


def reassigned_note(holder: Holder) -> str:
    """The timeline's note of a #转派."""
    return f"→ {holder.person.name}"


def reassigned_to(holder: Holder) -> str:
    """The announcement's note of a #转派."""
    return f"转给 {holder_label(holder)}"


def reassigned_for_holder(ticket: TicketRow) -> str:
    """The new handler hears of a #转派."""
    return f"工单 #{ticket.number} 转派给您：{short_text(ticket.text)}"


def auto_closed(after: timedelta) -> str:
    """The timeline's note of a resolved ticket nobody answered."""
    return f"{format_duration(after)}无人回复，自动关闭"


# -- the same problem, or not ------------------------------------------------------------------------

def merged_note(other: TicketRow, moved: int) -> str:
    """The timeline of the ticket merged into."""
    return f"并入工单 #{other.number}（{moved} 人）"


def merged_into_note(target: TicketRow) -> str:
    """The timeline of the ticket that closes into another."""
    return f"并入工单 #{target.number}"


def merged_for_target(a: TicketRow, b: TicketRow, actor: str) -> str:
    """The group of the ticket merged into."""
    return (f"工单 #{b.number}（{short_text(b.text, 24)}）与 #{a.number}（{short_text(a.text, 24)}）是同一问题，"
            f"已合并到 #{a.number}，共 {a.reporter_count} 人反映（{actor}）。")


def merged_for_reporters(a: TicketRow, b: TicketRow, names: str) -> str:
    """The reporters of the ticket that closed into another."""
    return (f"{names} 您反映的工单 #{b.number} 与工单 #{a.number} 是同一问题，已合并，"
            f"后续进度请发“查询 {a.number}”。").strip()


def merged_ack(a: TicketRow, b: TicketRow) -> str:
    """The leader's answer to #合并 where they typed it."""
    return f"好的，工单 #{b.number} 已并入 #{a.number}（共 {a.reporter_count} 人反映）。"


def split_note(reporter_name: str, new: TicketRow) -> str:
    """The timeline of the ticket split."""
    return f"{reporter_name} 的反映另立为工单 #{new.number}"


def split_status(ticket: TicketRow, new: TicketRow, reporter_name: str, text: str, actor: str) -> str:
    """The group of the ticket split."""
    return (f"工单 #{ticket.number}：{reporter_name} 反映的“{short_text(text, 24)}”是另一个问题，"
            f"已另立为工单 #{new.number}（{actor}）。#{ticket.number} 现有 {ticket.reporter_count} 人反映。")


def split_ack(ticket: TicketRow, new: TicketRow) -> str:
    """The leader's answer to #拆分 where they typed it."""
    return f"好的，已从工单 #{ticket.number} 拆出工单 #{new.number}。"


# -- the reporter takes it back ------------------------------------------------------------------------

def resident_said(quote: str) -> str:
    """The timeline's note of a reporter's own word."""
    return f"居民说：{quote}"


def others_still_report(ticket: TicketRow) -> str:
    """A withdrawal by one of several reporters: the ticket stays."""
    return f"好的，已记下。工单 #{ticket.number} 还有其他 {ticket.reporter_count - 1} 人反映，负责人会继续核实。"


def withdrawn_done(action: Action) -> str:
    """'已撤销' before anyone accepted, else '已关闭'."""
    return "已撤销" if action == Action.CANCEL else "已关闭"


def withdrawn_for_reporter(ticket: TicketRow, done: str, prefix: str) -> str:
    """The reporter's thanks."""
    return f"{prefix}好的，工单 #{ticket.number} {done}，谢谢告知。"


def withdrawn_for_holder(ticket: TicketRow, quote: str, done: str) -> str:
    """The handler (and the tier above) hear there is nothing more to do."""
    return f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）居民说“{quote}”，{done}，不用再处理。"


def relayed(ticket: TicketRow, line: str) -> str:
    """A line copied to the tier above, tagged with its ticket."""
    return f"[工单 #{ticket.number}] {line}"


# -- escalation ---------------------------------------------------------------------------------------

def overdue_reason(stage: str) -> str:
    """Why the clock escalated a ticket."""
    return "超时未受理" if stage == "accept" else "超时未办结"


def escalated_to(node_name: str, holder: Holder | None) -> str:
    """Who has the ticket now: '街道（王主任）'."""
    return f"{node_name}（{holder.person.name}）" if holder else node_name


def escalated_note(reason: str, node_name: str, holder: Holder | None) -> str:
    """The timeline's note of an escalation."""
    return f"{reason} → {node_name}" + (f"（{holder.person.name}）" if holder else "")


def escalated_for_reporter(ticket: TicketRow, reason: str, who: str) -> str:
    """The reporters' group hears the ticket went up."""
    return f"{_about(ticket)}{reason}，已上报至{who}。"


def escalated_ack(ticket: TicketRow, who: str) -> str:
    """The leader's answer to #上报 where they typed it."""
    return f"好的，工单 #{ticket.number} 已上报至{who}。"


def escalated_for_holder(ticket: TicketRow, origin: str, reason: str, limit: timedelta) -> str:
    """The new holder of one escalated ticket, in full."""
    return (f"⚠️工单 #{ticket.number} {reason}，已升级到您：{origin}·{CATEGORY_NAMES.get(ticket.category)}·"
            f"{URGENCY_NAMES.get(ticket.urgency)}：{short_text(ticket.text)}（{ticket.reporter_count}人反映）。"
            f"请在{format_duration(limit)}内处理。")


def escalated_list(items: Sequence[tuple[TicketRow, str, str]], limit: timedelta) -> str:
    """The new holder of several escalated tickets, as a list of (ticket, origin, reason)."""
    lines = [f"⚠️{len(items)} 张工单超时，已升级到您："]
    for t, origin, reason in items[:20]:
        lines.append(f"· #{t.number} {origin}·{CATEGORY_NAMES.get(t.category)}：{short_text(t.text, 24)}（{reason}）")
    if len(items) > 20:
        lines.append(f"……还有 {len(items) - 20} 张，发“#工单”查看全部")
    lines.append(f"请在{format_duration(limit)}内处理，回复“#受理 编号”受理。")
    return "\n".join(lines)


# -- views --------------------------------------------------------------------------------------------

def plain_status(ticket: TicketRow, holder: Holder | None) -> str:
    """A resident's question answered in plain words first: '还没修好。已受理，钱老师负责。'"""
    who = f"，{holder.person.name}负责" if holder else ""
    state = State(ticket.state)
    if state == State.NEW:
        return f"还没有人受理{who}，已在催办。" if ticket.escalated else f"还没受理{who}。"
    if state == State.ACCEPTED:
        return f"还没修好。已受理{who}，正在处理。"
    if state == State.REOPENED:
        return f"还没修好，已重新交办{who}。"
    if state == State.RESOLVED:
        return "负责人说已经办好了，请您确认：好了回复“好了”，没好回复“还没修好”。"
    if state == State.CLOSED:
        return "这件事已经解决并关闭。"
    return "这张工单已撤销。"


def describe(ticket: TicketRow, holder: Holder | None, *, tz: Any, now: datetime, with_text: bool = True) -> str:
    """The ticket's card: state, text, kind and place, holder, reporters, deadline, result."""
    lines = [f"工单 #{ticket.number}：{state_name(ticket)}"
             + (f"（已上报 {ticket.escalation_level} 级）" if ticket.escalation_level else "")]
    if with_text:
        lines.append(f"内容：{short_text(ticket.text, 60)}")
    where = location_text(ticket)
    lines.append(f"类别：{CATEGORY_NAMES.get(ticket.category)}·{URGENCY_NAMES.get(ticket.urgency)}"
                 + (f"；位置：{where}" if where else ""))
    lines.append(f"负责人：{holder_label(holder)}" if holder else "负责人：待定")
    lines.append(f"反映人数：{ticket.reporter_count}；登记：{local_time(ticket.created_at, tz)}")
    if State(ticket.state) in OPEN_STATES and ticket.due_at is not None:
        overdue = "（已超时）" if is_overdue(ticket.state, ticket.due_at, ticket.breached, now) else ""
        lines.append(f"期限：{local_time(ticket.due_at, tz)}{overdue}")
    if ticket.resolution:
        lines.append(f"办理结果：{ticket.resolution}")
    return "\n".join(lines)


def overview_section(name: str, code: str, count: int, rows: Sequence[TicketRow], now: datetime) -> list[str]:
    """One grid's part of `#工单`: its open tickets, overdue ones marked."""
    lines = [f"{name}（{code}）未办结 {count} 件："]
    for t in rows:
        overdue = "⚠️超时 " if is_overdue(t.state, t.due_at, t.breached, now) else ""
        lines.append(f"· #{t.number} {overdue}{state_name(t)} {URGENCY_NAMES.get(t.urgency)} {short_text(t.text, 20)}")
    if count > len(rows):
        lines.append(f"……还有 {count - len(rows)} 件，请在网页后台查看")
    return lines
