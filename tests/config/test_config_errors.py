"""Broken configs: each is refused with the file, the line and a fix."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config

GOOD = dedent("""\
    deployment: {name: 测试社区, timezone: Asia/Shanghai}
    people:
      p1: {name: 李书记, wechat_id: wx_p1}
      p2: {name: 陈网格长}
    nodes:
      - code: T
        name: 测试社区
        tier: 社区
        rooms: [测试社区群]
        roles: {社区书记: [p1]}
        children:
          - code: T-01
            name: 一网格
            tier: 网格
            rooms: [一网格群]
            roles: {网格长: [p2]}
    """)

CARE = GOOD + dedent("""\
    care:
      residents:
        - key: r1
          name: 吴奶奶
          node: T-01
          address: 1-1-601
          kinds: [独居老人]
          responsible: p2
          check_in: {contact: wx_r1}
    """)

# (name, config text, line expected in the error, words expected in the message)
CASES = [
    ("bad yaml indentation", GOOD.replace("    name: 一网格", "   name: 一网格"), 13, "bad YAML"),
    ("tab in yaml", GOOD.replace("    tier: 社区", "\ttier: 社区"), 8, "bad YAML"),
    ("unknown top key", GOOD + "webb: {port: 1}\n", 17, "unknown key 'webb'"),
    ("unknown node key", GOOD.replace("    tier: 网格", "    tier: 网格\n        parnet: T"), 15, "unknown key 'parnet'"),
    ("duplicate code", GOOD.replace("code: T-01", "code: T"), 12, "duplicate node code 'T'"),
    ("room claimed twice", GOOD.replace("rooms: [一网格群]", "rooms: [测试社区群]"), 15, "claimed by"),
    ("tier out of order", GOOD.replace("tier: 网格", "tier: 社区"), 14, "tier out of order"),
    ("unknown tier", GOOD.replace("tier: 网格", "tier: 小区"), 14, "unknown tier '小区'"),
    ("person not defined", GOOD.replace("网格长: [p2]", "网格长: [p3]"), 16, "'p3', who is not defined"),
    ("unknown role", GOOD.replace("网格长: [p2]", "网格场: [p2]"), 16, "unknown role '网格场'"),
    ("duplicate yaml key", GOOD.replace("    tier: 网格", "    tier: 网格\n        tier: 网格"), 15, "appears twice"),
    ("missing name", GOOD.replace("        name: 一网格\n", ""), 12, "needs 'name'"),
    ("bad code characters", GOOD.replace("code: T-01", "code: T 01"), 12, "characters codes may not use"),
    ("password in database url", GOOD + "database: {url: 'postgresql+asyncpg://u:secret@db/x'}\n", 17, "contains a password"),
    ("token in file", GOOD + "transport: {kind: wechaty, token: abc}\n", 17, "secrets must not be written"),
    ("unknown transport", GOOD + "transport: {kind: wechat}\n", 17, "unknown transport 'wechat'"),
    ("bad port", GOOD + "web: {port: 99999}\n", 17, "web.port must be a whole number"),
    ("bad timezone", GOOD.replace("Asia/Shanghai", "Asia/Beijing"), 1, "unknown time zone"),
    ("too many tiers", "tiers: [a, b, c, d, e, f, g]\n" + GOOD, 1, "at most 6"),
    ("no nodes", "deployment: {name: x}\n", 1, "no 'nodes'"),
    ("person without name or id", GOOD.replace("p2: {name: 陈网格长}", "p2: {phone: '123'}"), 4, "neither a name nor a wechat_id"),
    ("room without topic or id", GOOD.replace("rooms: [一网格群]", "rooms: [{members: [a]}]"), 15, "neither topic nor id"),
    ("not a mapping", "- just\n- a list\n", 1, "must be a mapping"),
    ("unsupported database", GOOD + "database: {url: 'mysql://x/y'}\n", 17, "unsupported database URL"),
    ("bad budget", GOOD + "transport: {send_budget: {per_minute: 0}}\n", 17, "per_minute must be a whole number"),
    ("bad duration", GOOD + "tickets:\n  merge_window: soon\n", 18, "not a duration"),
    ("a list where a duration belongs", GOOD + "tickets:\n  escalation_batch: []\n", 18,
     "tickets.escalation_batch is not a duration"),
    ("bad reopen window", GOOD + "tickets:\n  reopen_window: soon\n", 18, "tickets.reopen_window is not a duration"),
    ("reopen window too long", GOOD + "tickets:\n  reopen_window: 90d\n", 18, "tickets.reopen_window is too long"),
    ("withdraw window too long", GOOD + "tickets:\n  withdraw_window: 5d\n", 18, "tickets.withdraw_window is too long"),
    ("routing to unknown category", GOOD + "tickets:\n  routing: {theft: 民警}\n", 18, "unknown category 'theft'"),
    ("routing to unknown role", GOOD + "tickets:\n  routing: {security: 警察}\n", 18, "unknown role '警察'"),
    ("bad quiet hours", GOOD + "tickets:\n  quiet_hours: night\n", 18, "not a time window"),
    ("bad urgency", GOOD + "tickets:\n  deadlines:\n    critical: {accept: 5m}\n", 19, "unknown urgency"),
    ("bad daily digest time", GOOD + "digests:\n  daily: six pm\n", 18, "digests.daily is not a schedule"),
    ("weekly digest without a day", GOOD + "digests:\n  weekly: '08:00'\n", 18, "digests.weekly is not a schedule"),
    ("digest for an unknown role", GOOD + "digests:\n  leader_roles: [组长]\n", 18, "unknown role '组长'"),
    ("digest to an unknown group", GOOD + "digests:\n  room: 不存在的群\n", 18, "is not a group of any node"),
    ("public url without scheme", GOOD + "web:\n  public_url: grid.example.org\n", 18, "not a web address"),
    ("open311 public feed not a yes/no", GOOD + "web:\n  open311_public: maybe\n", 18,
     "web.open311_public must be true or false"),
    ("care: unknown kind", CARE.replace("[独居老人]", "[孤寡]"), 19, "不认识的关爱类别：孤寡"),
    ("care: node not in the tree", CARE.replace("node: T-01", "node: T-09"), 21, "node 'T-09' is not in the tree"),
    ("care: responsible not defined", CARE.replace("responsible: p2", "responsible: p9"), 24,
     "responsible 'p9' is not defined"),
    ("care: check-in time not a time", CARE.replace("{contact: wx_r1}", "{at: noon, contact: wx_r1}"), 25,
     "check_in.at is not a time of day"),
    ("care: check-in channel", CARE.replace("{contact: wx_r1}", "{channel: wall, contact: wx_r1}"), 25,
     "must be private or group"),
    ("care: check-in without contact", CARE.replace("{contact: wx_r1}", "{at: '09:00'}"), 25, "needs 'contact'"),
    ("care: answer_by before at", CARE.replace("{contact: wx_r1}", "{at: '11:00', answer_by: '09:00', contact: x}"),
     25, "answer_by must come after at"),
    ("care: neither visits nor check-in", CARE.replace("      check_in: {contact: wx_r1}\n", ""), 19,
     "请写明多久走访或电话一次"),
    ("care: unknown resident key", CARE.replace("address: 1-1-601", "adress: 1-1-601"), 22, "unknown key 'adress'"),
    ("care: unknown duty role", GOOD + "care:\n  duty_roles: [管家]\n", 18, "unknown role '管家'"),
    ("care: residents not a list", GOOD + "care:\n  residents: {key: r1}\n", 18, "care.residents must be a list"),
    ("care: holiday not a date", GOOD + "care:\n  holidays: [国庆]\n", 18, "is not a date"),
]

_SHIFT = "      - {days: \"1-5\", from: \"18:00\", to: \"08:00\", person: p2}\n"
CASES += [  # holidays and the duty roster (值班)
    ("working-day deadline for urgent", GOOD + "tickets:\n  deadlines:\n    urgent: {accept: 10m, resolve: 2wd}\n", 19,
     "urgent tickets cannot have a working-day deadline"),
    ("working-day deadline of zero days", GOOD + "tickets:\n  deadlines:\n    normal: {resolve: 0 工作日}\n", 19,
     "at least one working day"),
    ("calendar day that does not exist", GOOD + "calendar:\n  holidays_quiet: true\n  extra_holidays:\n"
     "    - 2027-02-06\n    - \"2027-02-30\"\n", 21, "calendar.extra_holidays[1]: not a day"),
    ("calendar day both off and worked", GOOD + "calendar:\n  extra_holidays: [\"2027-02-06..2027-02-12\"]\n"
     "  extra_workdays: [\"2027-02-07\"]\n", 17, "both an extra holiday and an extra working day"),
    ("holidays_quiet not a yes/no", GOOD + "calendar:\n  holidays_quiet: sometimes\n", 18,
     "calendar.holidays_quiet must be true or false"),
    ("unknown calendar key", GOOD + "calendar:\n  extra_holiday: []\n", 18, "unknown key 'extra_holiday'"),
    ("duty for an unknown person", GOOD + "duty:\n  - node: T-01\n    weekly:\n" + _SHIFT.replace("p2", "p9"), 20,
     "no person has the key 'p9'"),
    ("duty for an unknown node", GOOD + "duty:\n  - node: T-09\n    weekly:\n" + _SHIFT, 18,
     "no node has the code 'T-09'"),
    ("overlapping duty shifts", GOOD + "duty:\n  - node: T-01\n    weekly:\n" + _SHIFT
     + "      - {days: \"3\", from: \"20:00\", to: \"22:00\", person: p1}\n", 21, "overlaps weekly[0]"),
    ("duty time not a time", GOOD + "duty:\n  - node: T-01\n    exceptions:\n"
     "      - {date: \"2027-02-10\", from: \"8点\", to: \"24:00\", person: p2}\n", 20, "not a time"),
    ("poll duration not a duration", GOOD + "polls:\n  default_duration: a week\n", 18,
     "polls.default_duration is not a duration"),
    ("poll started by an unknown role", GOOD + "polls:\n  start_roles: [组长]\n", 18,
     "polls.start_roles names unknown role '组长'"),
    ("poll started by a role that does not lead", GOOD + "roles:\n  保洁: {leads: false, handles: true}\n"
     "polls:\n  start_roles: [网格长, 保洁]\n", 20, "role '保洁' does not lead"),
    ("poll roles not a list", GOOD + "polls:\n  start_roles: {网格长: true}\n", 18,
     "polls.start_roles must be a list"),
    ("unknown poll key", GOOD + "polls:\n  duration: 3d\n", 18, "unknown key 'duration' in polls"),
    ("satisfaction switch not a yes/no", GOOD + "satisfaction:\n  enabled: sometimes\n", 18,
     "satisfaction.enabled must be true or false"),
    ("satisfaction window not a duration", GOOD + "satisfaction:\n  window: []\n", 18,
     "satisfaction.window is not a duration"),
    ("satisfaction asked at once", GOOD + "satisfaction:\n  ask_after: 0m\n", 18,
     "satisfaction.ask_after must be longer than zero"),
]


@pytest.mark.parametrize(("name", "text", "line", "words"), CASES, ids=[c[0] for c in CASES])
def test_broken_config_names_file_line_and_fix(tmp_path: Path, name: str, text: str, line: int, words: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, cache=False)
    issues = caught.value.issues
    matching = [i for i in issues if words in i.message]
    assert matching, f"no issue mentions {words!r}: {[str(i) for i in issues]}"
    issue = matching[0]
    assert issue.file == str(path)
    assert issue.line == line, str(issue)
    assert issue.fix, "every error says what to do"
    assert f"{path}:{line}:" in str(caught.value)


def test_good_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    config = load_config(path, cache=False)
    assert [n.code for n in config.tree] == ["T", "T-01"]


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("code: T-01", "code: T").replace("网格长: [p2]", "网格长: [p9]")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, cache=False)
    messages = " | ".join(i.message for i in caught.value.issues)
    assert "duplicate node code" in messages and "'p9'" in messages


def test_node_without_handler_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text(GOOD.replace("        roles: {网格长: [p2]}\n", ""), encoding="utf-8")
    config = load_config(path, cache=False)
    assert any("T-01" in w and "parent answers" in w for w in config.warnings)


def test_a_leader_without_wechat_id_is_warned_about_digests(tmp_path: Path) -> None:
    path = tmp_path / "digest.yaml"
    path.write_text(GOOD, encoding="utf-8")  # p2 (网格长) has no wechat_id
    config = load_config(path, cache=False)
    assert any("陈网格长 will get no digest" in w for w in config.warnings)
    path.write_text(GOOD + "digests: {daily: off, weekly: off}\n", encoding="utf-8")
    # "no digest", not "digest": every warning now starts with this file's name, digest.yaml, and with digests
    # off p2 is still (rightly) named for having a role but no wechat_id
    assert not any("no digest" in w for w in load_config(path, cache=False).warnings)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, cache=False)


def test_check_command_exits_1_and_prints_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("code: T-01", "code: T"), encoding="utf-8")
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:12: duplicate node code 'T'" in err and "fix:" in err


def test_check_command_accepts_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["check", "--config", str(root / "config.yaml")]) == 0
    assert "群 30 个" in capsys.readouterr().out


def test_cache_is_used_only_for_the_same_content(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD, encoding="utf-8")
    first = load_config(path)
    assert list((tmp_path / "data" / ".config-cache").iterdir())
    again = load_config(path)
    assert [n.code for n in again.tree] == [n.code for n in first.tree]
    path.write_text(GOOD.replace("code: T-01", "code: T"), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)  # an edited file is validated again, not read from the cache


def test_ticket_settings_survive_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(GOOD + "tickets:\n  merge_window: 2h\n  reopen_window: 1d\n  withdraw_window: 30m\n"
                    "  routing: {security: 民警}\n  quiet_hours: off\n", encoding="utf-8")
    fresh = load_config(path)
    cached = load_config(path)
    for config in (fresh, cached):
        assert config.tickets.merge_window.total_seconds() == 7200
        assert config.tickets.reopen_window.total_seconds() == 86400
        assert config.tickets.withdraw_window.total_seconds() == 1800
        assert config.tickets.routing == {"security": "民警"}
        assert config.tickets.sla.quiet.start == config.tickets.sla.quiet.end


def test_working_day_deadlines_are_for_routine_tickets_and_survive_the_cache(tmp_path: Path) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.domain.sla import WorkingDays

    path = tmp_path / "w.yaml"
    path.write_text(GOOD + "tickets:\n  deadlines:\n    normal: {accept: 30m, resolve: 2 工作日}\n"
                    "  category_deadlines:\n    repair: {resolve: 3wd}\n"
                    "calendar:\n  holidays_quiet: true\n  extra_holidays: {2027-02-08: 春节}\n"
                    "duty:\n  - node: T\n    weekly:\n      - {days: 每天, from: 18:00, to: \"08:00\", person: p1}\n",
                    encoding="utf-8")
    fresh, cached = load_config(path), load_config(path)
    friday = datetime(2027, 2, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for config in (fresh, cached):
        sla = config.tickets.sla
        assert sla.limits_for("normal").resolve == WorkingDays(days=2)
        assert isinstance(sla.limits_for("low", "repair").resolve, WorkingDays)
        assert sla.limits_for("urgent", "repair").resolve == timedelta(hours=4)  # urgent stays on the clock
        # Friday + 2 working days: Monday the 8th is the extra holiday, so Wednesday 09:00
        assert sla.deadline("resolve", "normal", "other", friday) == friday + timedelta(days=5)
        assert config.calendar.holidays_quiet and sla.holidays_quiet
        assert config.duty.on_duty("T-01", friday.replace(hour=23)) is None
        assert config.duty.find_on_duty("T-01", friday.replace(hour=23), lambda c: "T" if c == "T-01" else None) \
            == ("T", "p1")


def test_check_warns_when_the_holiday_data_ends(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    import chinese_calendar

    from bot.cli import check

    root = Path(__file__).resolve().parents[2]
    last = max(chinese_calendar.holidays).year
    monkeypatch.setattr(check, "today", lambda config: date(last, 12, 1))
    assert main(["check", "--config", str(root / "config.yaml")]) == 0
    err = capsys.readouterr().err
    assert f"{last + 1} 年的法定节假日和调休尚未收录" in err and "calendar.extra_holidays" in err
    monkeypatch.setattr(check, "today", lambda config: date(last, 6, 1))
    assert main(["check", "--config", str(root / "config.yaml")]) == 0
    assert "calendar.extra_holidays" not in capsys.readouterr().err
def test_a_care_resident_loads_with_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "care.yaml"
    path.write_text(CARE, encoding="utf-8")
    care = load_config(path, cache=False).care
    [resident] = care.residents
    assert resident.entry.name == "吴奶奶" and resident.entry.check_in and resident.check_in is not None
    assert (resident.check_in.at.hour, resident.check_in.answer_by.hour, resident.check_in.channel) == (9, 11, "private")
    assert care.duty_roles[0] == "社区书记" and "独居老人" in care.kinds
def test_polls_and_satisfaction_sections_are_read(tmp_path: Path) -> None:
    path = tmp_path / "polls.yaml"
    path.write_text(GOOD + "polls:\n  default_duration: 2d\n  start_roles: [网格长]\n"
                    "satisfaction:\n  enabled: false\n  ask_after: 2h\n  window: 1d\n", encoding="utf-8")
    config = load_config(path, cache=False)
    assert config.polls.default_duration.days == 2 and config.polls.start_roles == ("网格长",)
    assert not config.satisfaction.enabled and config.satisfaction.ask_after.seconds == 7200
    assert config.satisfaction.window.days == 1
