"""Scenario tests through the replay machinery (real parser, simulator, virtual clock), on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.replay import Replay, parse_events

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


async def play(config, db_spec, lines):
    events = list(parse_events(lines, tz=TZ, start=START))
    async with Replay(config, db_spec.database(), START) as replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        return replay.sent(), await replay.summary()


def ev(at, room=None, sender=None, text=""):
    data = {"at": at}
    if room:
        data.update(room=room, sender=sender, text=text)
    return json.dumps(data, ensure_ascii=False)


async def test_tenant_report_climbs_to_the_community(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "东头12号房东租客群", "201 小刘", "3楼楼道的灯坏了好几天了，晚上黑漆漆的"),
        ev("+31m"), ev("+31m"), ev("+31m"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["category"] == "repair" and ticket["escalation_level"] == 3 and ticket["escalated"]
    rooms = [m["room"] for m in sent]
    assert "东头12号房东租客群" in rooms and "老村东片微网格" in rooms
    assert "江桥社区第二网格群" in rooms and "江桥社区工作群" in rooms
    community = [m for m in sent if m["room"] == "江桥社区工作群"]
    assert any("@李红梅" in m["text"] and "wxid_lihongmei" in m["mentions"] for m in community)


async def test_merge_refusal_and_reopen(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+2m", "江桥花苑3号楼微网格", "3-302 李强", "+1 我家也是，电梯不动了"),
        ev("+3m", "江桥花苑3号楼微网格", "wxid_zhouqiang", "#受理 1001"),   # grid 2's leader: refused
        ev("+4m", "江桥花苑3号楼微网格", "huang_min", "#受理 1001"),
        ev("+60m", "江桥花苑3号楼微网格", "黄敏", "#办结 1001 已联系电梯公司修好"),
        ev("+10m", "江桥花苑3号楼微网格", "3-201 王芳", "还没修好，还是不动"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["reporters"] == 2 and ticket["state"] == "reopened"
    texts = [m["text"] for m in sent if m["room"] == "江桥花苑3号楼微网格"]
    assert any("已有工单 #1001" in t and "共 2 人反映" in t for t in texts)
    assert any("不在您负责的范围内" in t for t in texts)
    assert any("已受理" in t for t in texts) and any("重新打开" in t for t in texts)


async def test_urgent_gas_smell_reaches_above_at_night(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T23:30:00+08:00", "西巷3号房东群", "301 小杨", "楼道里好大的煤气味，谁家漏气了快来看看"),
    ])
    assert summary["tickets"][0]["urgency"] == "urgent"
    above = [m for m in sent if m["room"] == "老村西巷微网格"]
    assert above and "【紧急】" in above[0]["text"] and above[0]["at"].startswith("2026-11-23T23:3")


def test_gridbot_replay_command(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([
        ev("2026-11-23T09:00:00+08:00", "老村南街微网格", "南街7号 刘婶", "南街的垃圾桶满了三天没人收"),
        ev("+5m", "老村南街微网格", "lin_fang", "#受理 1001"),
        '{"at": "+2h"}',
    ]) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "replay", "--config", str(ROOT / "config.yaml"),
                             str(events)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    messages, summary = lines[:-1], lines[-1]["summary"]
    assert messages[0]["room"] == "老村南街微网格" and "#1001" in messages[0]["text"]
    assert {"at", "room", "text", "mentions"} <= set(messages[0])
    assert summary["tickets"][0]["state"] == "accepted" and summary["messages_in"] == 2
    assert summary["clock"].startswith("2026-11-23T11:05")


def test_gridbot_replay_reports_bad_events(tmp_path):
    events = tmp_path / "bad.jsonl"
    events.write_text('{"at": "yesterday", "room": "x", "sender": "y", "text": "z"}\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "replay", "--config", str(ROOT / "config.yaml"),
                             str(events)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "line 1" in result.stderr
