"""The console's 关爱台账 and 走访记录: only for accounts whose person has a care duty on the node or above (403,
logged, otherwise); overdue visits and today's 报平安 shown; numbers masked; and none of it in the exports or the
JSON API. Both backends."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.web.accounts import hash_password, new_token
from storage.care_repository import CareRepository
from storage.models import AuditRow
from storage.web_repository import WebRepository
from tests.conftest import TZ
from tests.web.conftest import PASSWORD

NOTE = "儿子电话13912345678，高血压"
VISIT_NOTE = "上门看过，药够吃，女儿电话13700001111"
# what the ledger says that nothing but its own pages may show
CARE_WORDS = ("独居老人", "高血压", "药够吃", "13912345678", "139****5678", "13700001111", "报平安", "关爱")


@pytest.fixture
def sample_config(care_config):  # the sample's care ledger, 吴奶奶's notes holding a phone number
    wu, *others = care_config.care.residents
    wu = dataclasses.replace(wu, entry=dataclasses.replace(wu.entry, notes=NOTE))
    return dataclasses.replace(care_config, care=dataclasses.replace(care_config.care, residents=(wu, *others)))


async def _add_account(web, name: str, role: str, person: str | None, node: str | None = None) -> None:
    async def add(session):  # type: ignore[no-untyped-def]
        await WebRepository(session).add_user(username=name, password_hash=hash_password(PASSWORD), role=role,
                                              person_key=person, node_code=node, token_hash=new_token()[1],
                                              disabled=False, created_at=datetime.now(timezone.utc))
    await web.bot.db.run(add)


async def _visit(web, key: str, by: str, note: str, at: datetime) -> None:
    async def add(session):  # type: ignore[no-untyped-def]
        await CareRepository(session).add_visit(key, at=at, kind="visit", by=by, note=note, photo=False,
                                                message_id=None, now=at)
    await web.bot.db.run(add)


async def test_the_ledger_shows_kinds_overdue_and_todays_check_in_to_those_with_a_duty(web):
    await web.bot.settle(web.clock, until=web.clock.now().replace(hour=11, minute=5))  # asked at 9, 楼道长 at 11
    await web.login("chenli")  # 网格长 of 第一网格: both residents live there
    overview = await (await web.client.get("/console")).text()
    assert "/console/care'>关爱台账" in overview
    response = await web.client.get("/console/care")
    html = await response.text()
    assert response.status == 200
    assert "<b class='care-count'>2</b> 位关爱对象" in html
    assert "<b>吴奶奶</b> <span class='late care-overdue'>走访超期</span>" in html  # never visited, every 7 days
    assert "<span class='care-kind'>独居老人</span><span class='care-kind'>高龄</span>" in html
    assert "张阿姨" in html and "赵杰" in html  # responsible persons, by name
    assert "未回复：已请楼道长上门查看" in html  # today's 报平安
    assert "139****5678" in html and "13912345678" not in html
    assert "儿子吴强" in html and "wxid_wuqiang" not in html  # the family named, never their WeChat id
    assert (await web.client.get("/console/care?node=JQS")).status == 403  # above her duty


async def test_no_duty_no_ledger(web):
    await _add_account(web, "sun", "leader", "pm_sun")  # 物业管家 of 第一网格: handles tickets, no care duty
    for name in ("kan", "sun"):
        await web.login(name)
        overview = await (await web.client.get("/console")).text()
        assert "关爱台账" not in overview
        for path in ("/console/care", "/console/care/visits", "/console/care?node=JQS-01",
                     "/console/care/visits?node=JQS-01-01"):
            response = await web.client.get(path)
            assert response.status == 403, (name, path)
            assert "吴奶奶" not in await response.text()
    async with web.bot.db.unit_of_work() as s:
        refused = list(await s.scalars(select(AuditRow).where(AuditRow.allowed.is_(False))))
    assert {r.username for r in refused} == {"kan", "sun"} and all("care" in (r.target or "") for r in refused)


async def test_visits_and_the_months_coverage_by_grid(web):
    now = web.clock.now()
    await _visit(web, "lin_apo", "zhao_jie", VISIT_NOTE, now - timedelta(hours=2))
    await _visit(web, "lin_apo", "zhao_jie", "上个月看过", now - timedelta(days=40))
    await web.login("shuji")  # 社区书记: the whole community
    html = await (await web.client.get("/console/care/visits")).text()
    assert "<b>本月应访 2 户，已访 1 户（50%）</b>" in html
    assert "第一网格（江桥花苑）</td><td data-label='本月走访' class='text'>本月应访 2 户，已访 1 户（50%）；未访：1-1-601 吴奶奶" \
        in html
    assert html.index(VISIT_NOTE.replace("13700001111", "137****1111")) < html.index("上个月看过")  # newest first
    assert "13700001111" not in html and "5-601 林阿婆" in html and "赵杰" in html
    await web.login("chenli")
    html = await (await web.client.get("/console/care/visits")).text()  # 第一网格 by its buildings
    assert "江桥花苑5幢</td><td data-label='本月走访' class='text'>本月应访 1 户，已访 1 户（100%）" in html
    assert "江桥花苑1号楼</td><td data-label='本月走访' class='text'>本月应访 1 户，已访 0 户（0%）" in html


def _xlsx_text(body: bytes) -> str:
    book = load_workbook(io.BytesIO(body))
    return "\n".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for c in row if c is not None)


async def test_care_data_never_reaches_the_exports_or_the_json_api(web):
    await web.bot.settle(web.clock, until=web.clock.now().replace(hour=11, minute=5))
    await _visit(web, "wu_nainai", "zhang_ayi", VISIT_NOTE, web.clock.now())
    await web.say("江桥花苑3号楼微网格", "sim:3-201 王芳", "3号楼电梯坏了，快来修")  # a ticket to export
    await web.login("shuji")
    ledger = await (await web.client.get("/console/care")).text()
    assert "独居老人" in ledger and "高血压" in ledger  # it is there, for the ledger's own page
    texts = {}
    for path in ("/console/export.csv", "/console/export.xlsx"):
        response = await web.client.get(path)
        assert response.status == 200, path
        body = await response.read()
        texts[path] = _xlsx_text(body) if path.endswith("xlsx") else body.decode("utf-8-sig")
    assert "电梯" in texts["/console/export.csv"] and "电梯" in texts["/console/export.xlsx"]
    headers = web.bearer("shuji")
    for path in ("/api/v1/tickets", "/api/v1/nodes", "/api/v1/notices", "/api/v1/digest?node=JQS",
                 "/api/v1/digest?node=JQS-01-01-1&period=week", "/api/v1/openapi.json"):
        response = await web.client.get(path, headers=headers)
        assert response.status == 200, path
        texts[path] = await response.text()
    assert "电梯" in texts["/api/v1/tickets"]
    for path, text in texts.items():
        for word in CARE_WORDS:
            assert word not in text, (path, word)
    for path in ("/api/v1/care", "/api/v1/care/visits"):
        assert (await web.client.get(path, headers=headers)).status == 404
