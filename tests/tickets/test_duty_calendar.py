"""Holidays and the duty roster (值班) in the bot: working-day deadlines skip the Spring Festival and its 调休,
holidays are quiet, escalations and urgent alerts at night go to whoever is on duty, `#值班` answers, and the
operator is told when the holiday data runs out.

Scenario tests through the replay machinery (real parser, simulator, virtual clock), on both databases.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select

from bot.config import load_config
from bot.config.schema import CareConfig
from bot.domain.duty import Roster
from bot.domain.people import Directory
from bot.replay import Replay, parse_events
from storage.models import TicketEventRow

TZ = ZoneInfo("Asia/Shanghai")
SAMPLE = Path(__file__).resolve().parents[2] / "config.yaml"
LAMP = "1号楼楼道的灯坏了好几天了，晚上黑漆漆的"
GAS = "1号楼1单元楼道里燃气味很重，臭鸡蛋味"


def ev(at, room=None, sender=None, text="", direct=False):
    data = {"at": at}
    if room or direct:
        data.update(room=room, sender=sender, text=text)
    if direct:
        data["direct"] = True
    return json.dumps(data, ensure_ascii=False)


async def play(config, db_spec, lines, *, unbound=False):
    """Replay the events; returns what was sent, the tickets, and each escalation's moment. `unbound`: people
    without a wechat_id get no simulator binding either, as on WeChat before they bind."""
    start = datetime.fromisoformat(json.loads(lines[0])["at"])
    events = list(parse_events(lines, tz=TZ, start=start))
    replay = Replay(config, db_spec.database(), start)
    if unbound:
        replay.bot.directory = Directory(config.tree, config.people, config.roles)
    async with replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)

        async def escalations(session):  # type: ignore[no-untyped-def]
            rows = await session.scalars(select(TicketEventRow).where(TicketEventRow.action == "escalate")
                                         .order_by(TicketEventRow.id))
            return [row.at for row in rows]

        times = await replay.database.run(escalations, what="test escalations")
        return replay.sent(), await replay.summary(), times


def config_with(tmp_path: Path, old: str, new: str):
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    # without the care ledger, as the sample_config fixture: 吴奶奶's unanswered 报平安 would open tickets mid-scenario
    return dataclasses.replace(load_config(path, cache=False), care=CareConfig())


def after_working_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` × 24 hours counted only on the package's working days (walked day by day here)."""
    left, moment = timedelta(days=days), start
    while True:
        midnight = datetime.combine(moment.date() + timedelta(days=1), time(0), TZ)
        if chinese_calendar.is_workday(moment.date()):
            if midnight - moment >= left:
                return moment + left
            left -= midnight - moment
        moment = midnight


def local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=moment.tzinfo or ZoneInfo("UTC")).astimezone(TZ)


# -- holidays ------------------------------------------------------------------------------------------

async def test_a_two_working_day_deadline_waits_out_the_spring_festival_and_its_makeup_day(tmp_path, db_spec):
    config = config_with(tmp_path, "  deadlines:                  # 受理",
                         "  category_deadlines:\n    repair: {accept: 2wd, resolve: 5 工作日}\n"
                         "  deadlines:                  # 受理")
    reported = datetime(2026, 2, 13, 10, 0, tzinfo=TZ)  # a Friday; Saturday the 14th is a 调休 working day
    expected = after_working_days(reported, 2)
    assert expected.date() == date(2026, 2, 24)  # after the holiday (15th–23rd), from the package's own data
    sent, summary, times = await play(config, db_spec, [
        ev(reported.isoformat(), "江桥花苑1号楼微网格", "1-101 王芳", LAMP),
        ev("2026-02-25T09:00:00+08:00")])
    [ticket] = summary["tickets"]
    assert ticket["category"] == "repair" and ticket["urgency"] == "normal"
    assert times and local(times[0]) == expected
    assert len(times) == 1 and ticket["escalation_level"] == 1
    assert any("已上报至" in m["text"] and m["at"].startswith("2026-02-24T10:00") for m in sent)


async def test_a_routine_breach_on_a_public_holiday_waits_for_the_holiday_to_end(sample_config, db_spec):
    reported = datetime(2026, 10, 2, 10, 0, tzinfo=TZ)  # 国庆节
    assert chinese_calendar.is_holiday(reported.date()) and sample_config.calendar.holidays_quiet
    first_day = reported.date()
    while chinese_calendar.get_holiday_detail(first_day)[1] is not None and chinese_calendar.is_holiday(first_day):
        first_day += timedelta(days=1)
    _, summary, times = await play(sample_config, db_spec, [
        ev(reported.isoformat(), "江桥花苑1号楼微网格", "1-101 王芳", LAMP),
        ev(datetime.combine(first_day, time(12, 0), TZ).isoformat())])
    assert summary["tickets"][0]["urgency"] == "normal"
    assert times and local(times[0]) == datetime.combine(first_day, time(7, 0), TZ)  # the quiet night's end after it


async def test_without_quiet_holidays_a_routine_breach_goes_up_on_the_holiday(sample_config, db_spec):
    reported = datetime(2026, 10, 2, 10, 0, tzinfo=TZ)  # 国庆节
    calendar = dataclasses.replace(sample_config.calendar, holidays_quiet=False)
    tickets = dataclasses.replace(sample_config.tickets,
                                  sla=dataclasses.replace(sample_config.tickets.sla, holidays_quiet=False))
    loud = dataclasses.replace(sample_config, calendar=calendar, tickets=tickets)
    _, _, times = await play(loud, db_spec, [
        ev(reported.isoformat(), "江桥花苑1号楼微网格", "1-101 王芳", LAMP), ev("+2h")])
    assert times and local(times[0]) == reported + timedelta(minutes=30)


# -- the duty roster ------------------------------------------------------------------------------------

def escalation_alerts(sent, wxid):
    return [m for m in sent if "已升级到您" in m["text"] and (wxid in m["mentions"] or m["to"] == wxid)]


async def test_an_urgent_report_at_night_goes_to_whoever_is_on_night_duty(sample_config, db_spec):
    assert sample_config.duty.on_duty("JQS-01", datetime(2026, 11, 23, 22, 0, tzinfo=TZ)) == "huang_min"
    sent, summary, times = await play(sample_config, db_spec, [
        ev("2026-11-23T22:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", GAS), ev("+15m")])
    [ticket] = summary["tickets"]
    assert ticket["urgency"] == "urgent" and ticket["escalation_level"] == 1 and len(times) == 1
    assert ticket["assignee"] == "huang_min"  # on night duty for 江桥花苑, not 张阿姨 (the 1号楼 micro-grid's)
    assert escalation_alerts(sent, "wxid_huangmin") and not escalation_alerts(sent, "wxid_zhangayi")
    # the urgent alert at 22:00 told her too, and the reporter hears who else knows
    urgent = [m for m in sent if "【紧急】" in m["text"]]
    assert any("wxid_huangmin" in m["mentions"] or m["to"] == "wxid_huangmin" for m in urgent)
    assert "已同时通知 黄敏（值班）" in sent[0]["text"]


async def test_in_the_daytime_nobody_is_on_duty_and_the_usual_handler_gets_it(sample_config, db_spec):
    sent, summary, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T14:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", GAS), ev("+15m")])
    assert summary["tickets"][0]["assignee"] == "zhang_ayi"
    assert escalation_alerts(sent, "wxid_zhangayi") and not escalation_alerts(sent, "wxid_huangmin")


async def test_without_a_roster_the_night_goes_to_the_usual_handler(sample_config, db_spec):
    config = dataclasses.replace(sample_config, duty=Roster())
    sent, summary, _ = await play(config, db_spec, [
        ev("2026-11-23T22:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", GAS), ev("+15m")])
    assert summary["tickets"][0]["assignee"] == "zhang_ayi"
    assert "已同时通知 张阿姨（微网格长）" in sent[0]["text"]


async def test_someone_on_duty_who_cannot_be_reached_is_passed_over(sample_config, db_spec):
    people = dict(sample_config.people)
    people["huang_min"] = dataclasses.replace(people["huang_min"], wechat_id=None)
    config = dataclasses.replace(sample_config, people=people)
    sent, summary, _ = await play(config, db_spec, [
        ev("2026-11-23T22:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", GAS), ev("+15m")], unbound=True)
    assert summary["tickets"][0]["assignee"] == "zhang_ayi"
    assert not any("黄敏" in m["text"] for m in sent)


async def test_duty_answers_who_is_on_tonight(sample_config, db_spec):
    sent, _, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T12:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", "#值班"),  # Monday
        ev("2026-11-24T02:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "#值班"),  # still Monday's night
        ev("2026-11-28T12:00:00+08:00", "江桥花苑5幢微网格", "5-601 林阿婆", "#值班"),  # Saturday
        ev("+1m", None, "路人甲", "#值班 JQS-01", direct=True),
        ev("+1m", "老村东片微网格", "东头20号 周嫂", "#值班")])
    answers = [m for m in sent if "值班" in m["text"]]
    assert len(answers) == 5
    assert answers[0]["room"] == "1号楼1单元楼道群" and "wxid" not in answers[0]["text"]
    assert "第一网格（江桥花苑）今晚值班：黄敏（18:00–次日08:00）" in answers[0]["text"]
    assert "今晚值班：黄敏（18:00–次日08:00）" in answers[1]["text"]
    assert "今晚值班：赵杰（08:00–11月30日08:00）" in answers[2]["text"]  # the weekend shifts run on
    assert answers[3]["to"] is not None and "今晚值班：赵杰" in answers[3]["text"]
    assert "没有安排值班" in answers[4]["text"] and "黄敏" not in answers[4]["text"]


# -- the operator is told when the holiday data runs out ------------------------------------------------

async def test_start_up_warns_when_the_year_is_beyond_the_holiday_data(sample_config, db_spec, caplog):
    last = max(chinese_calendar.holidays).year
    for start, warned in ((datetime(last + 1, 1, 4, 9, 0, tzinfo=TZ), True),
                          (datetime(last, 6, 1, 9, 0, tzinfo=TZ), False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            async with Replay(sample_config, db_spec.database(), start):
                pass
        found = [r.getMessage() for r in caplog.records if r.name == "bot.app" and "calendar.extra_holidays" in
                 r.getMessage()]
        assert len(found) == (1 if warned else 0)
        if warned:
            assert f"{last + 1} 年" in found[0] and "calendar.extra_workdays" in found[0]


async def test_someone_on_duty_for_another_building_is_told_privately_not_in_that_buildings_group(sample_config,
                                                                                                   db_spec):
    """黄敏 is on night duty for 江桥花苑 and sits in 3号楼's groups: 1号楼's urgent case is no news for 3号楼's residents."""
    sent, summary, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T22:00:00+08:00", "1号楼1单元楼道群", "1-1-101 王芳", GAS), ev("+5m")])
    told = [m for m in sent if "【紧急】" in m["text"] and ("wxid_huangmin" in m["mentions"] or m["to"] == "wxid_huangmin")]
    assert told and all(m["to"] == "wxid_huangmin" for m in told), told
    assert not any(m["room"] and m["room"].startswith("3号楼") for m in sent)
