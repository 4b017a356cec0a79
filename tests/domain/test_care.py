"""The care ledger and the daily 报平安: who may read the ledger, and a day of check-ins minute by minute."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.care import (DEFAULT_KINDS, CareEntry, CareError, CheckInPlan, Relative, Reply, StepKind,
                             check_entry, check_kinds, may_see_care, may_see_entry, next_step, parse_pause,
                             plan_for, visible_entries)
from bot.domain.care.wording import (alert_text, answered_text, look_in_text, pause_ack_text, prompt_text,
                                     ticket_text, ticket_title)

TZ = ZoneInfo("Asia/Shanghai")
WED = date(2025, 3, 5)  # a Wednesday


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), TZ)


def wu() -> CareEntry:
    return CareEntry(key="care-wu", name="吴奶奶", node_code="JQS-01-01-1", address="1-1-601",
                     kinds=("独居老人", "高龄"), responsible="ld_1_1", visit_every=timedelta(days=7),
                     family=(Relative("wxid_wuli", "吴丽", "女儿"),), check_in=True)


def plan() -> CheckInPlan:
    return CheckInPlan(subject="care-wu", first_escalation=("ld_1_1",), second_escalation=("wxid_wuli", "chen_li"))


def run_day(p: CheckInPlan, day: date, replies=(), pauses=(), holidays=(), until: tuple[int, int] = (16, 0),
            done: dict | None = None):
    """Drive the planner every 5 minutes like the scheduler would, doing each step it asks for."""
    done = {} if done is None else done
    log = []
    now = at(day, 0)
    while now <= at(day, *until):
        step = next_step(p, day, now, replies, pauses, done, holidays=holidays)
        if step.kind in (StepKind.PROMPT, StepKind.LOOK_IN, StepKind.ALERT, StepKind.TICKET):
            done[step.kind] = now
            log.append((step.kind, now.strftime("%H:%M"), step.recipients))
        elif step.kind in (StepKind.ANSWERED, StepKind.PAUSED) and (not log or log[-1][0] != step.kind):
            log.append((step.kind, now.strftime("%H:%M"), step.recipients))
        now += timedelta(minutes=5)
    return log, done


# -- the ledger -------------------------------------------------------------------------------------------

def test_kinds_come_from_the_deployment() -> None:
    assert check_kinds([" 独居老人", "高龄", "独居老人"], DEFAULT_KINDS) == ("独居老人", "高龄")
    with pytest.raises(CareError, match="空巢老人"):
        check_kinds(["空巢老人"], DEFAULT_KINDS)
    assert check_kinds(["空巢老人"], [*DEFAULT_KINDS, "空巢老人"]) == ("空巢老人",)
    with pytest.raises(CareError):
        check_kinds([], DEFAULT_KINDS)


def test_an_entry_needs_a_rhythm_and_a_known_node(sample_config) -> None:
    entry = wu()
    assert check_entry(entry, DEFAULT_KINDS, sample_config.tree) is entry
    from dataclasses import replace
    with pytest.raises(CareError, match="多久"):
        check_entry(replace(entry, visit_every=None, check_in=False), DEFAULT_KINDS)
    with pytest.raises(CareError, match="JQS-99"):
        check_entry(replace(entry, node_code="JQS-99"), DEFAULT_KINDS, sample_config.tree)


def test_only_a_care_duty_on_the_node_or_above_sees_the_ledger(sample_config) -> None:
    tree = sample_config.tree
    entry = wu()
    duty = ("社区书记", "网格长", "微网格长", "楼道长")

    def sees(person: str, roles=duty) -> bool:
        positions = [(code, role) for node in tree for role, people in node.roles if person in people
                     for code in (node.code,)]
        return may_see_care(positions, entry.node_code, tree, roles)

    assert sees("ld_1_1")           # 楼道长 of 1号楼1单元
    assert sees("zhang_ayi")        # 微网格长 of 1号楼
    assert sees("chen_li")          # 网格长 of 一网格
    assert sees("li_hongmei")       # 社区书记
    assert not sees("ld_1_2")       # 楼道长 of the next unit
    assert not sees("zhou_qiang")   # another grid's leader
    assert not sees("police_he")    # 民警 holds no care duty here...
    assert sees("police_he", (*duty, "民警"))  # ...unless the deployment says so
    assert not sees("fd_chen")


def test_the_responsible_person_sees_their_entry_without_a_role(sample_config) -> None:
    from dataclasses import replace
    entry = replace(wu(), responsible="volunteer_1")
    other = replace(wu(), key="care-he", name="何爷爷", node_code="JQS-01-01-2", responsible="ld_1_2")
    assert may_see_entry(entry, "volunteer_1", [], sample_config.tree)
    assert not may_see_entry(entry, "volunteer_2", [], sample_config.tree)
    shown = visible_entries([entry, other], "ld_1_2", [("JQS-01-01-2", "楼道长")], sample_config.tree)
    assert [e.key for e in shown] == ["care-he"]


def test_plan_for_finds_the_nearest_helpers(sample_config) -> None:
    from dataclasses import replace
    p = plan_for(wu(), sample_config.tree)
    assert p.first_escalation == ("ld_1_1",)
    assert p.second_escalation == ("wxid_wuli", "chen_li")
    lin = replace(wu(), key="care-lin", name="林阿婆", node_code="JQS-01-04", address="5-601", family=())
    p = plan_for(lin, sample_config.tree, at=time(8, 30), answer_by=time(10, 0))
    assert p.first_escalation == ("zhao_jie",)  # 5幢 has no 楼道长: its 微网格长
    assert p.second_escalation == ("chen_li",)
    assert p.at == time(8, 30)


# -- a day of check-ins -------------------------------------------------------------------------------------

def test_a_full_day_without_an_answer_ends_in_an_urgent_ticket() -> None:
    log, done = run_day(plan(), WED)
    assert log == [
        (StepKind.PROMPT, "09:00", ("care-wu",)),
        (StepKind.LOOK_IN, "11:00", ("ld_1_1",)),
        (StepKind.ALERT, "11:30", ("wxid_wuli", "chen_li")),
        (StepKind.TICKET, "12:00", ()),
    ]
    entry = wu()
    assert prompt_text(entry) == "吴奶奶，今天好吗？回复 1 报平安"
    look = look_in_text(entry, done[StepKind.PROMPT], done[StepKind.LOOK_IN], place="1号楼1单元")
    assert "吴奶奶" in look and "1-1-601" in look and "9:00" in look and "2小时" in look
    alert = alert_text(entry, done[StepKind.PROMPT], done[StepKind.ALERT], asked=["钱老师"])
    assert "2小时30分钟" in alert and "钱老师" in alert and "家属" in alert
    ticket = ticket_text(entry, done[StepKind.PROMPT], done[StepKind.TICKET], asked=["钱老师"])
    assert ticket.startswith("独居老人无法联系：吴奶奶（1-1-601）") and "3小时" in ticket
    # after the ticket the planner asks for nothing more: the ticket carries on
    assert next_step(plan(), WED, at(WED, 18), (), (), done).kind is StepKind.WAIT


def test_wait_says_when_to_look_again() -> None:
    step = next_step(plan(), WED, at(WED, 7), (), (), {})
    assert step.kind is StepKind.WAIT and step.due == at(WED, 9)
    step = next_step(plan(), WED, at(WED, 10), (), (), {StepKind.PROMPT: at(WED, 9)})
    assert step.kind is StepKind.WAIT and step.due == at(WED, 11)


@pytest.mark.parametrize(("kind", "text"), [
    ("emoticon", ""), ("text", "1"), ("text", "好的"), ("voice", ""), ("image", ""), ("text", "👍"),
])
def test_any_reply_is_an_answer(kind: str, text: str) -> None:
    replies = [Reply(at(WED, 9, 20), kind, text)]
    log, _ = run_day(plan(), WED, replies)
    assert log == [(StepKind.PROMPT, "09:00", ("care-wu",)), (StepKind.ANSWERED, "09:20", ())]


def test_an_empty_text_is_no_answer() -> None:
    log, _ = run_day(plan(), WED, [Reply(at(WED, 9, 20), "text", "  ")])
    assert [k for k, *_ in log][-1] is StepKind.TICKET


def test_an_answer_after_the_knock_stands_the_helpers_down() -> None:
    reply = Reply(at(WED, 11, 12), "emoticon")
    log, _ = run_day(plan(), WED, [reply])
    assert log[-1] == (StepKind.ANSWERED, "11:15", ("ld_1_1",))
    assert StepKind.ALERT not in [k for k, *_ in log]
    assert answered_text(wu(), reply) == "吴奶奶 11:12 已报平安，不用再跑了，谢谢您！"


def test_a_neighbours_confirmation_counts_for_the_day() -> None:
    log, _ = run_day(plan(), WED, [Reply(at(WED, 11, 20), "text", "看过了，在家", by_subject=False)])
    assert log[-1][0] is StepKind.ANSWERED and StepKind.ALERT not in [k for k, *_ in log]


def test_an_early_message_saves_the_prompt_but_yesterdays_does_not() -> None:
    log, _ = run_day(plan(), WED, [Reply(at(WED, 6, 40), "text", "早上好")])
    assert log == [(StepKind.ANSWERED, "06:40", ())]
    log, _ = run_day(plan(), WED, [Reply(at(WED - timedelta(days=1), 20), "text", "晚安")])
    assert log[0][0] is StepKind.PROMPT


def test_a_late_prompt_gets_the_full_window_to_answer() -> None:
    done = {StepKind.PROMPT: at(WED, 13, 0)}
    step = next_step(plan(), WED, at(WED, 13, 5), (), (), done)
    assert step.kind is StepKind.WAIT and step.due == at(WED, 15, 0)
    assert next_step(plan(), WED, at(WED, 19), (), (), {}).kind is StepKind.WAIT  # too late to start today


def test_each_level_waits_from_when_the_one_before_was_done() -> None:
    done = {StepKind.PROMPT: at(WED, 9), StepKind.LOOK_IN: at(WED, 11, 20)}  # the knock went out late
    step = next_step(plan(), WED, at(WED, 11, 35), (), (), done)
    assert step.kind is StepKind.WAIT and step.due == at(WED, 11, 50)


def test_without_a_first_helper_the_family_hears_at_once() -> None:
    p = CheckInPlan(subject="care-wu", second_escalation=("wxid_wuli",))
    log, _ = run_day(p, WED)
    assert [(k, t) for k, t, _ in log] == [(StepKind.PROMPT, "09:00"), (StepKind.ALERT, "11:00"),
                                          (StepKind.TICKET, "11:30")]


def test_a_stay_at_the_daughters_pauses_until_she_writes_again() -> None:
    said = Reply(at(WED, 8, 10), "text", "我去女儿家住一周")
    pause = parse_pause(said.text, WED)
    assert pause is not None and (pause.start, pause.end) == (WED, date(2025, 3, 11))
    thanks = Reply(at(WED, 8, 12), "text", "谢谢")  # the same day: still paused tomorrow
    thu = WED + timedelta(days=1)
    log, _ = run_day(plan(), thu, [said, thanks], [pause])
    assert log == [(StepKind.PAUSED, "00:00", ())]
    sat = date(2025, 3, 8)
    log, _ = run_day(plan(), sat, [said, thanks], [pause])
    assert [k for k, *_ in log] == [StepKind.PAUSED]
    # she writes from her daughter's on Saturday afternoon: from Sunday she is asked again
    back = Reply(at(sat, 15), "voice")
    sun = date(2025, 3, 9)
    log, _ = run_day(plan(), sun, [said, thanks, back], [pause], until=(9, 30))
    assert log[0] == (StepKind.PROMPT, "09:00", ("care-wu",))
    ack = pause_ack_text(wu(), pause)
    assert "3月5日到3月11日" in ack and "去女儿家住" in ack and "恢复" in ack


def test_a_pause_ends_by_its_date() -> None:
    pause = parse_pause("明天起住院，大概五天", WED)
    assert pause is not None
    inside, after = date(2025, 3, 10), date(2025, 3, 11)
    assert run_day(plan(), WED, (), [pause], until=(9, 0))[0][0][0] is StepKind.PROMPT  # starts tomorrow
    assert run_day(plan(), inside, (), [pause])[0] == [(StepKind.PAUSED, "00:00", ())]
    assert run_day(plan(), after, (), [pause], until=(9, 0))[0][0][0] is StepKind.PROMPT
    ack = pause_ack_text(wu(), pause, by_proxy=True)
    assert ack.startswith("收到，吴奶奶3月6日到3月10日（住院）")


def test_a_holiday_pauses_the_check_in() -> None:
    holiday = date(2025, 4, 4)
    log, _ = run_day(plan(), holiday, holidays={holiday})
    assert log == [(StepKind.PAUSED, "00:00", ())]
    step = next_step(plan(), holiday, at(holiday, 9), (), (), {}, holidays={holiday})
    assert step.pause is not None and step.pause.reason == "节假日"
    nxt = holiday + timedelta(days=1)
    assert run_day(plan(), nxt, holidays={holiday}, until=(9, 0))[0][0][0] is StepKind.PROMPT


def test_ticket_title_follows_the_kind() -> None:
    from dataclasses import replace
    assert ticket_title(wu()) == "独居老人无法联系"
    assert ticket_title(replace(wu(), kinds=("重病",))) == "关爱对象无法联系"
