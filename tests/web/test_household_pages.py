"""The console's 住户 page and its import: upload → dry run (nothing stored) → confirmation (CSRF) that stores
what the dry run showed, audited; 无人在群 first; phones masked; other nodes refused. Both backends."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.models import AuditRow, HouseholdRow, WebSessionRow
from tests.households.test_messy_import import messy_workbook
from tests.web.test_console import csrf_of

NODE = "JQS-01-03"  # 江桥花苑3号楼: its group has "3-201 王芳", "3-302 李强", "3-1-201 马丽"


def hidden(html: str, name: str) -> str:
    return re.search(rf"name='{name}' value='([^']*)'", html).group(1)


async def _count(web) -> int:
    async with web.bot.db.unit_of_work() as s:
        return await s.scalar(select(func.count()).select_from(HouseholdRow))


async def _upload(web, path, csrf, node=NODE):
    return await web.client.post("/console/households/import", data={
        "csrf": csrf, "node": node, "file": path.open("rb")})


async def test_an_import_is_shown_first_then_stored_on_confirmation(web, tmp_path):
    await web.login("chenli")
    page = await (await web.client.get(f"/console/households?node={NODE}")).text()
    assert "还没有登记住户" in page
    book = messy_workbook(tmp_path)
    refused = await web.client.post("/console/households/import", data={"node": NODE, "file": book.open("rb")})
    assert refused.status == 403  # no CSRF token
    dry = await _upload(web, book, csrf_of(page))
    html = await dry.text()
    assert dry.status == 200 and "试导入（还没有保存）" in html
    for line in ("第 10 行：缺少姓名", "第 11 行：电话号码位数不对", "第 12 行：缺少房号"):
        assert f"<li>{line}</li>" in html
    assert "将登记 <b class='import-households'>3</b> 户、4 人" in html
    assert "138****0201" in html and "13812340201" not in html
    assert await _count(web) == 0  # a dry run stores nothing
    done = await web.client.post("/console/households/import", allow_redirects=False, data={
        "csrf": csrf_of(html), "confirm": "1", "node": NODE, "filename": hidden(html, "filename"),
        "data": hidden(html, "data")})
    assert done.status == 302 and done.headers["Location"] == f"/console/households?node={NODE}"
    assert await _count(web) == 3
    async with web.bot.db.unit_of_work() as s:
        [row] = list(await s.scalars(select(AuditRow).where(AuditRow.action == "households_import")))
    assert row.allowed and row.target == f"node:{NODE}" and "登记 3 户、4 人，3 行未导入" in row.detail
    listing = await (await web.client.get(f"/console/households?node={NODE}")).text()
    assert "已导入：江桥花苑3号楼（JQS-01-03）登记 3 户" in listing  # the flash, once
    assert "登记 <b class='households-count'>3</b> 户" in listing
    keys = re.findall(r"<tr class='(unreached|)' data-key='([^']+)'", listing)
    # "3-1-201 马丽" is in the group; the other two are 无人在群, and listed first
    assert [(c, k) for c, k in keys][-1] == ("", "3-1-201")
    assert sorted(k for c, k in keys if c) == ["3-1-202", "3-2-401"] and len(keys) == 3
    assert "13812340201" not in listing and "138****0201" in listing
    again = await (await web.client.get(f"/console/households?node={NODE}")).text()
    assert "已导入" not in again


async def test_a_tampered_confirmation_is_refused_and_other_nodes_are_out_of_reach(web, tmp_path):
    await web.login("kan")  # a viewer of 第二网格
    page = await (await web.client.get("/console/households")).text()
    assert "导入住户表" not in page  # no form for a viewer
    assert (await web.client.get(f"/console/households?node={NODE}")).status == 403
    async with web.bot.db.unit_of_work() as s:  # the viewer's own session token (its pages show no form)
        csrf = await s.scalar(select(WebSessionRow.csrf).order_by(WebSessionRow.created_at.desc()))
    refused = await _upload(web, messy_workbook(tmp_path), csrf, node="JQS-02-01")
    assert refused.status == 403 and await _count(web) == 0
    async with web.bot.db.unit_of_work() as s:
        rows = list(await s.scalars(select(AuditRow).where(AuditRow.allowed.is_(False))))
    assert {r.action for r in rows} >= {"view", "households_import"}
    await web.login("chenli")
    csrf = csrf_of(await (await web.client.get("/console/households")).text())
    broken = await web.client.post("/console/households/import", data={
        "csrf": csrf, "confirm": "1", "node": NODE, "filename": "a.xlsx", "data": "not base64!"})
    assert broken.status == 400 and await _count(web) == 0
