"""Every sentence a 微议事 poll says, to the group and to the leader who opened it (Simplified Chinese).

    announcement(draft, poll_no)                 the poll posted in the group
    vote_ack(option, options, previous=None)     None for a first vote (see below), a short line for a changed one
    late_vote(poll_no)                           a vote that came after the deadline
    interim(draft, poll_no, result, now)         the answer to `#议事结果` while the poll runs
    final_for_group(draft, poll_no, result)      the result posted in the group at the deadline
    final_for_leader(draft, poll_no, result)     the result sent to the leader, with what to do next

A first vote gets no reply: forty households answering would flood the group and spend the account's send budget
(20 messages a minute), and `#议事结果` shows the figures to whoever wants them. A changed vote is confirmed, because
the resident needs to know which of their answers counts. Times are shown in the deadline's own time zone unless a
`tz` is given.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.domain.polls import PollDraft, PollResult

_WEEKDAYS = "一二三四五六日"


def _time(moment: datetime, tz: tzinfo | None = None) -> str:
    local = moment.astimezone(tz) if tz else moment
    return f"{local.month}月{local.day}日（周{_WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def _how_to_vote(options: tuple[str, ...]) -> str:
    numbers = "/".join(str(i + 1) for i in range(len(options)))
    words = "”“".join(options)
    return f"回复数字（{numbers}）或直接说“{words}”即可，每户一票，重复回复以最后一次为准。"


def _count_lines(result: PollResult) -> list[str]:
    lines = []
    for i, (option, count) in enumerate(zip(result.options, result.counts)):
        share = f"（{round(100 * count / result.voted)}%）" if result.voted else ""
        lines.append(f"{i + 1}. {option} {count} 户{share}")
    return lines


def _quorum_line(result: PollResult, *, final: bool = False) -> str | None:
    quorum = result.quorum
    if quorum is None:
        return None
    rule = f"“{quorum.describe()}”"
    if result.needed is None:
        return f"要求{rule}：本群户数未登记，无法判断是否达到。"
    if result.quorum_met:
        return f"已达到{rule}的要求（需 {result.needed} 户）。"
    if final:
        have = result.needed - (result.shortfall or 0)
        return f"未达到{rule}的要求（需 {result.needed} 户，实际 {have} 户）。"
    return f"尚未达到{rule}的要求（需 {result.needed} 户，还差 {result.shortfall} 户）。"


def _outcome(result: PollResult) -> str:
    if not result.voted:
        return "没有住户参与投票。"
    if result.tied:
        names = "、".join(f"「{result.options[n - 1]}」" for n in result.tied)
        return f"{names}票数相同（各 {result.counts[result.tied[0] - 1]} 户），由网格长和大家商量后决定下一步。"
    winner = f"「{result.options[result.winner - 1]}」"
    if result.quorum_met is False:
        return f"{winner}得票最多，但未达到“{result.quorum.describe()}”的要求，本次结果仅供参考。"
    return f"结果：{winner}得票最多。"


def ticket_note(poll_no: int, result: PollResult) -> str:
    """What a closed poll adds to the timeline of the ticket it was about."""
    return f"微议事第{poll_no}号结束：共 {result.turnout}参与。{_outcome(result)}"


def announcement(draft: PollDraft, poll_no: int, tz: tzinfo | None = None) -> str:
    """The poll as posted in the group: question, numbered options, how to vote, deadline, quorum, ticket."""
    lines = [f"【微议事 第{poll_no}号】{draft.question}"]
    lines += [f"{i + 1}. {option}" for i, option in enumerate(draft.options)]
    lines.append(_how_to_vote(draft.options))
    if draft.deadline is not None:
        lines.append(f"截止时间：{_time(draft.deadline, tz)}。")
    if draft.quorum is not None:
        lines.append(f"需{draft.quorum.describe()}，结果才算数。")
    if draft.ticket_no is not None:
        lines.append(f"关联工单 #{draft.ticket_no}。")
    lines.append("发送 #议事结果 可随时查看进展。")
    return "\n".join(lines)


def vote_ack(option: int, options: tuple[str, ...], previous: int | None = None) -> str | None:
    """None for a first vote or the same vote again (quiet); a short confirmation when a household changes it."""
    if previous is None or previous == option:
        return None
    return f"您家这一票已改为「{options[option - 1]}」（原为「{options[previous - 1]}」），以最后一次为准。"


def late_vote(poll_no: int) -> str:
    """A vote that came after the deadline."""
    return f"第{poll_no}号议事已经截止，这条回复不再计入，谢谢关心。"


def interim(draft: PollDraft, poll_no: int, result: PollResult, now: datetime, tz: tzinfo | None = None) -> str:
    """The answer to `#议事结果` while the poll runs."""
    open_ = draft.deadline is None or now < draft.deadline
    state = "进行中" if open_ else "已截止"
    lines = [f"【微议事 第{poll_no}号 · {state}】{draft.question}", *_count_lines(result), f"已参与 {result.turnout}。"]
    quorum = _quorum_line(result)
    if quorum:
        lines.append(quorum)
    if open_ and draft.deadline is not None:
        lines.append(f"截止时间：{_time(draft.deadline, tz)}，还没投的住户请抓紧回复。")
    return "\n".join(lines)


def final_for_group(draft: PollDraft, poll_no: int, result: PollResult) -> str:
    """The result posted in the group when the poll closes."""
    lines = [f"【微议事结果 第{poll_no}号】{draft.question}", f"共 {result.turnout}参与。", *_count_lines(result)]
    quorum = _quorum_line(result, final=True)
    if quorum and result.quorum_met:
        lines.append(quorum)
    lines.append(_outcome(result))
    lines.append("感谢各位邻居参与！")
    return "\n".join(lines)


def final_for_leader(draft: PollDraft, poll_no: int, result: PollResult) -> str:
    """The result sent to the leader who opened the poll: the figures in one line and what follows."""
    counts = " · ".join(f"{o} {c}" for o, c in zip(result.options, result.counts))
    lines = [f"您发起的第{poll_no}号议事已截止：{draft.question}", f"{counts}（参与 {result.turnout}）"]
    quorum = _quorum_line(result, final=True)
    if quorum:
        lines.append(quorum)
    lines.append(_outcome(result))
    if draft.ticket_no is not None and result.decided:
        lines.append(f"关联工单 #{draft.ticket_no}，请按结果安排处理。")
    elif draft.ticket_no is not None:
        lines.append(f"关联工单 #{draft.ticket_no} 暂无明确结论，可再次发起议事或直接决定。")
    return "\n".join(lines)


# --- answers to the leader's commands (refusals and confirmations) ---------------------------------------------

ONLY_IN_GROUP = "请在要议事的群里发 #议事（每个群的住户各自投票）。"
NOT_A_LEADER = "抱歉，只有本群的网格长、楼道长等负责人可以发起议事。"
NO_POLL_HERE = "本群目前没有议事。负责人可以发 #议事 问题 1.同意 2.不同意 截止 周五20点 发起。"
RESULT_NEEDS_NUMBER = "请写议事编号，例如：#议事结果 3（或在议事的群里直接发 #议事结果）。"


def not_allowed(name: str, roles: tuple[str, ...]) -> str:
    """The sender leads here but the deployment lets only some roles start polls."""
    return f"抱歉，{name}，本社区只有{'、'.join(roles)}可以发起议事。"


def already_open(poll_no: int, deadline: datetime, tz: tzinfo | None = None) -> str:
    """A second poll while one runs in the group would make every "1" ambiguous."""
    return (f"本群第{poll_no}号议事还在进行中（截止 {_time(deadline, tz)}），"
            f"同一时间只能进行一项。可先发 #结束议事 提前结束，再发起新的议事。")


def only_starter(poll_no: int, starter: str) -> str:
    return f"第{poll_no}号议事由{starter}发起，只有发起人可以提前结束。"


def already_closed(poll_no: int) -> str:
    return f"第{poll_no}号议事已经结束，发 #议事结果 {poll_no} 可查看结果。"


def unknown_ticket(ticket_no: int) -> str:
    """A `关联 #N` that names no ticket: the poll is not opened, so the leader can fix the number."""
    return f"没有找到工单 #{ticket_no}，议事没有发出。请核对工单号，或去掉“关联 #{ticket_no}”再发。"


def ticket_line(ticket_no: int, state: str | None) -> str:
    """The linked ticket, shown under `#议事结果`."""
    if state is None:
        return f"关联工单 #{ticket_no}（没有找到这张工单，请核对编号）。"
    return f"关联工单 #{ticket_no}（{state}）。"
