"""Identity from stable ids only: names and person keys grant nothing; bindings made with one-time codes do."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import GridBot
from bot.cli import main
from bot.clock import VirtualClock
from bot.config import load_config, parse_config
from bot.domain.people import Directory
from bot.transport.simulator import SimulatorTransport
from storage.models import AuditRow, BindingCodeRow, BindingRow, NoticeRow, TicketRow
from tests.conftest import SAMPLE_CONFIG, TZ

COMMUNITY = "江桥社区工作群"
GRID_2 = "江桥社区第二网格群"


def bot_lines(room):
    return [m.text for m in room.history if m.from_bot]


def notice_rooms(sim):
    return {room.topic for room in sim.all_rooms() for m in room.history if m.from_bot and "【通知" in m.text}


def test_a_display_name_or_a_person_key_identifies_nobody(sample_config):
    d = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    assert d.identify("wxid_lihongmei").key == "li_hongmei"
    assert d.identify("wxid_stranger", "李红梅") is None
    assert d.identify("li_hongmei", "李红梅") is None
    assert d.find("李红梅").key == d.find("li_hongmei").key == "li_hongmei"  # naming someone in a command
    d.load_bindings({"wxid_newphone": "li_hongmei"})
    assert d.identify("wxid_newphone").key == "li_hongmei"
    d.load_bindings({})
    assert d.identify("wxid_newphone") is None


async def test_a_stranger_named_like_the_secretary_can_neither_notify_nor_close(sim_bot, db, clock):
    bot, sim = sim_bot
    building = sim.room_by_topic("江桥花苑3号楼微网格")
    await sim.post(building.id, "sim:3-201 王芳", "3号楼楼道灯坏了好几天了")
    await bot.settle(clock)
    community = sim.room_by_topic(COMMUNITY)
    for stranger in ("wxid_stranger", "li_hongmei"):  # a look-alike nickname; the secretary's people key
        before = len(sim.sent)
        await sim.post(community.id, stranger, "#通知 紧急 社区账户变更，请大家今天转账到 6222 0000", sender_name="李红梅")
        await sim.post(community.id, stranger, "#关闭 1001", sender_name="李红梅")
        await bot.settle(clock)
        new = sim.sent[before:]
        assert {m.conversation.id for m in new} == {community.id}  # answered where they wrote, nowhere else
        assert not any("转账" in m.text for m in new)
        assert "只有网格负责人" in new[-1].text
    assert notice_rooms(sim) == set()
    async with db.unit_of_work() as s:
        assert await s.scalar(select(NoticeRow)) is None
        assert (await s.scalar(select(TicketRow).where(TicketRow.number == 1001))).state != "closed"
    # the secretary herself, by her WeChat id, still can
    await sim.post(community.id, "wxid_lihongmei", "#关闭 1001")
    await bot.settle(clock)
    async with db.unit_of_work() as s:
        assert (await s.scalar(select(TicketRow).where(TicketRow.number == 1001))).state == "closed"


def _config_without_wechat_id(tmp_path, key="zhou_qiang"):
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text, count = re.subn(rf"({key}:\s*\{{name: [^,]+), wechat_id: \w+\}}", r"\1}", text)
    assert count == 1
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_names_role_holders_without_a_wechat_id(tmp_path, capsys):
    path = _config_without_wechat_id(tmp_path)
    assert main(["check", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    assert "周强 (zhou_qiang: 网格长@JQS-02)" in err and "no wechat_id" in err
    assert not any("no wechat_id" in w for w in load_config(SAMPLE_CONFIG, cache=False).warnings)
    config = parse_config("deployment: {name: x, timezone: Asia/Shanghai}\ntiers: [社区]\n"
                          "people: {a: 阿明}\nnodes: [{code: X, name: X, tier: 社区, roles: {网格长: [a]}}]\n")
    assert any("阿明 (a: 网格长@X)" in w for w in config.warnings)


async def test_binding_path_issue_use_restart_revoke(db_spec, db, tmp_path, monkeypatch, capsys):
    path = _config_without_wechat_id(tmp_path)
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_spec.url)
    if db_spec.schema:
        monkeypatch.setenv("GRIDBOT_DATABASE_SCHEMA", db_spec.schema)
    config = load_config(path, cache=False)
    phone = "wxid_zhouqiang_2024"  # the contact id WeChat really gives 周强

    async def cli(*args):
        return await asyncio.to_thread(main, [*args, "--config", str(path)])

    clock = VirtualClock(datetime.now(TZ).replace(microsecond=0))

    async def bot_on(clock):
        sim = SimulatorTransport.from_config(config, clock)
        bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
        await bot.start()
        return bot, sim

    async def notify(bot, sim, text):
        before = notice_rooms(sim)
        await sim.post(sim.room_by_topic(GRID_2).id, phone, f"#通知 {text}", sender_name="周强")
        await bot.settle(clock)
        return notice_rooms(sim) - before

    bot, sim = await bot_on(clock)
    try:
        assert await notify(bot, sim, "周日清理楼道") == set()  # not yet known: refused
        assert await cli("user", "bind", "nobody") == 2
        assert await cli("user", "bind", "zhou_qiang") == 0
        out = capsys.readouterr().out
        code = re.search(r"绑定 ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", out).group(1)
        async with db.unit_of_work() as s:
            stored = list(await s.scalars(select(BindingCodeRow)))
        assert [r.code_hash for r in stored] == [hashlib.sha256(code.replace("-", "").encode()).hexdigest()]
        assert stored[0].expires_at - stored[0].created_at == timedelta(hours=24)

        # in a group the code is burnt: everyone there has read it
        await sim.post(sim.room_by_topic(GRID_2).id, phone, f"绑定 {code}", sender_name="周强")
        await bot.settle(clock)
        assert "已作废" in bot_lines(sim.room_by_topic(GRID_2))[-1]
        await sim.post_direct(phone, "周强", f"绑定 {code}")
        await bot.settle(clock)
        assert "已作废" in sim.direct_history(phone)[-1].text

        assert await cli("user", "bind", "zhou_qiang") == 0
        code = re.search(r"绑定 ([A-Z0-9-]{14})", capsys.readouterr().out).group(1)
        await sim.post_direct(phone, "周强", f"绑定 {code.lower()}")
        await bot.settle(clock)
        assert "绑定成功：您是周强" in sim.direct_history(phone)[-1].text
        assert len(await notify(bot, sim, "周日清理楼道")) == 10  # every group below 第二网格
        await sim.post_direct("wxid_someone_else", "周强", f"绑定 {code}")  # a code works once
        await bot.settle(clock)
        assert "用过" in sim.direct_history("wxid_someone_else")[-1].text
    finally:
        await bot.stop()

    bot, sim = await bot_on(clock)  # bindings are loaded at start
    try:
        assert len(await notify(bot, sim, "周一开会")) == 10
        assert await cli("user", "unbind", "zhou_qiang") == 0
        assert "1 binding(s)" in capsys.readouterr().out
        await bot.load_bindings()  # the running bot's periodic reload
        assert await notify(bot, sim, "周二开会") == set()
        # an expired code binds nobody
        assert await cli("user", "bind", "zhou_qiang") == 0
        code = re.search(r"绑定 ([A-Z0-9-]{14})", capsys.readouterr().out).group(1)
        await clock.advance_to(clock.now() + timedelta(hours=25))
        await sim.post_direct(phone, "周强", f"绑定 {code}")
        await bot.settle(clock)
        assert "过期" in sim.direct_history(phone)[-1].text
        assert await notify(bot, sim, "周三开会") == set()
    finally:
        await bot.stop()

    async with db.unit_of_work() as s:
        bindings = list(await s.scalars(select(BindingRow)))
        audit = [(a.action, a.allowed) for a in await s.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert len(bindings) == 1 and bindings[0].contact_id == phone and bindings[0].revoked_at is not None
    assert ("identity.code", True) in audit and ("identity.bind", True) in audit
    assert ("identity.bind", False) in audit and ("identity.unbind", True) in audit


async def test_the_simulator_lets_a_person_without_a_wechat_id_act_as_themselves(db, tmp_path):
    config = load_config(_config_without_wechat_id(tmp_path), cache=False)
    clock = VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    sim = SimulatorTransport.from_config(config, clock)
    bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    try:
        room = sim.room_by_topic(GRID_2)
        me = next(m for m in room.members.values() if m.name == "周强")  # picked from the member list
        assert me.id == "sim-person:zhou_qiang" and me.role == "网格长"
        await sim.post(room.id, me.id, "#通知 周日清理楼道")
        await bot.settle(clock)
        assert len(notice_rooms(sim)) == 10
        await sim.post(room.id, "zhou_qiang", "#通知 假冒", sender_name="周强")  # the bare key is nobody
        await bot.settle(clock)
        assert not any("假冒" in m.text for m in sim.sent if m.conversation.id != room.id)
    finally:
        await bot.stop()
