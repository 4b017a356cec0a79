"""The web side under hostile or broken input: no open redirect, no user enumeration by timing, 400 not 500,
a live feed that survives any text, and exports that never hand a spreadsheet a formula."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from bot.web import auth
from bot.web.accounts import _SCRYPT, DUMMY_HASH
from bot.web.exports import _cell
from bot.web.forms import local_path
from storage.models import TicketRow
from tests.web.conftest import PASSWORD
from tests.web.test_console import GRID1, TENANT, csrf_of, ticket_numbers

OFF_SITE = ["//other.host/x", "/\t/other.host/x", "/\n/other.host", "/\r\n/other.host", "/\\other.host",
            "\\\\other.host", "/\\/other.host", "https://other.host", "http:other.host", "javascript:alert(1)",
            "/\x00/other.host", "\x01//other.host", " //other.host", "other.host/x", "", "///other.host"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_only_local_paths_survive_as_the_page_after_login(target):
    assert local_path(target) == "/console"


def test_local_paths_are_kept():
    for target in ("/console/tickets?state=open&node=JQS-01", "/console/tickets/7", "/console#x", "/"):
        assert local_path(target) == target


@pytest.mark.parametrize("target", ["/\t/other.host/x", "//other.host", "/\\other.host", "https://other.host"])
async def test_login_never_redirects_off_site(web, target):
    answer = await web.client.post("/login", data={"username": "shuji", "password": PASSWORD, "next": target},
                                   allow_redirects=False)
    assert answer.status == 302 and answer.headers["Location"] == "/console"
    form = await (await web.client.get("/login", params={"next": target})).text()
    assert "other.host" not in form
    kept = await web.login("shuji")  # and a local next is still honoured
    assert kept.headers["Location"] == "/console"


async def test_a_missing_account_costs_the_same_scrypt_as_a_wrong_password(web, monkeypatch):
    checked = []

    def spy(password, stored):  # type: ignore[no-untyped-def]
        checked.append(stored)
        return False

    monkeypatch.setattr(auth, "verify_password", spy)
    assert (await web.login("nobody-here", "whatever")).status == 401
    assert (await web.login("shuji", "wrong password")).status == 401
    assert len(checked) == 2 and checked[0] == DUMMY_HASH and checked[1] != DUMMY_HASH
    assert DUMMY_HASH.split("$")[1:4] == [str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"])]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "\xff\xfe", '{"name": 5}', "{}",
                                  '{"name": ["x"]}'])
async def test_bad_member_requests_are_400(web, body):
    room = web.sim.room_by_topic(GRID1)
    answer = await web.client.post(f"/api/sim/rooms/{room.id}/members", data=body.encode("latin-1"),
                                   headers={"Content-Type": "application/json"})
    assert answer.status == 400 and any("\u4e00" <= c <= "\u9fff" for c in await answer.text())


@pytest.mark.parametrize("body", ["not json", "[1]", '{"text": "hi", "sender_id": 5}', '{"text": null}',
                                  '{"text": "hi", "sender_id": "x", "sender_name": 3}'])
async def test_bad_message_requests_are_400(web, body):
    room = web.sim.room_by_topic(GRID1)
    answer = await web.client.post(f"/api/sim/rooms/{room.id}/messages", data=body,
                                   headers={"Content-Type": "application/json"})
    assert answer.status == 400 and any("\u4e00" <= c <= "\u9fff" for c in await answer.text())


BROKEN_MULTIPART = {"data": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=zz"}}


async def test_broken_forms_are_400(web):
    room = web.sim.room_by_topic(GRID1)
    assert (await web.client.post(f"/api/sim/rooms/{room.id}/images", **BROKEN_MULTIPART)).status == 400
    assert (await web.client.post("/login", **BROKEN_MULTIPART)).status == 400
    assert (await web.client.post("/open311/v2/requests.json", **BROKEN_MULTIPART)).status == 400
    await web.login("chenli")
    assert (await web.client.post("/console/notices", **BROKEN_MULTIPART)).status == 400


async def test_odd_values_in_the_console_are_400_or_404_never_500(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await ticket_numbers(web))["JQS-01-03"]
    assert (await web.login("a\x00b", "x\x00")).status == 401
    await web.login("chenli")
    assert (await web.client.get("/console/tickets?offset=99999999999999999999")).status == 400
    assert (await web.client.get("/console/tickets?offset=-1")).status == 400
    assert (await web.client.get("/console/tickets/99999999999999999999")).status == 404
    assert (await web.client.get("/console/tickets/%C2%B2")).status == 404
    assert (await web.client.get("/console/tickets?q=a%00b")).status == 200
    assert (await web.client.get("/console/export.csv?q=%00")).status == 200
    page = await (await web.client.get(f"/console/tickets/{number}")).text()
    odd = await web.client.post(f"/console/tickets/{number}", allow_redirects=False,
                                data={"csrf": csrf_of(page), "action": "fly"})
    assert odd.status == 400
    assert (await web.client.post(f"/console/tickets/{number}", allow_redirects=False,
                                  data={"csrf": "令牌", "action": "accept"})).status == 403
    noted = await web.client.post(f"/console/tickets/{number}", allow_redirects=False,
                                  data={"csrf": csrf_of(page), "action": "accept", "note": "收到\x00"})
    assert noted.status == 302


@pytest.mark.parametrize("body", ['{"node": "JQS-01", "text": "x", "tiers": 5}', '{"node": ["JQS-01"], "text": "x"}',
                                  '{"node": "JQS-01", "text": 7}', '{"node": "JQS-01", "text": "x", "urgent": "no"}',
                                  '{"node": "JQS-01", "text": "x", "deadline": 3}', "[1]", "nope"])
async def test_bad_notice_bodies_in_the_api_are_400(web, body):
    answer = await web.client.post("/api/v1/notices", data=body,
                                   headers={**web.bearer("shuji"), "Content-Type": "application/json"})
    assert answer.status == 400 and "error" in await answer.json()


async def test_odd_values_in_the_api_and_open311_are_400_or_404(web, monkeypatch):
    monkeypatch.setenv("GRIDBOT_OPEN311_API_KEY", "k-123")  # reading Open311 needs the key (privacy)
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await ticket_numbers(web))["JQS-01-03"]
    api = web.bearer("shuji")
    assert (await web.client.get("/api/v1/tickets?offset=99999999999999999999", headers=api)).status == 400
    assert (await web.client.get("/api/v1/tickets?q=%00", headers=api)).status == 200
    assert (await web.client.get("/api/v1/tickets/99999999999999999999", headers=api)).status == 404
    action = await web.client.post(f"/api/v1/tickets/{number}/actions", headers=api,
                                   json={"action": "accept", "note": ["x"]})
    assert action.status == 400
    assert (await web.client.post(f"/api/v1/tickets/{number}/actions", headers=api,
                                  json={"action": ["accept"]})).status == 400
    for query in ("service_request_id=%C2%B2", "service_request_id=99999999999999999999"):
        assert (await web.client.get(f"/open311/v2/requests.json?{query}&api_key=k-123")).status == 400
    for ident in ("%C2%B2", "99999999999999999999"):
        assert (await web.client.get(f"/open311/v2/requests/{ident}.json?api_key=k-123")).status == 404
    refused = await web.client.post("/open311/v2/requests.json", data={"api_key": "钥匙", "service_code": "repair"})
    assert refused.status == 403


async def test_the_live_feed_survives_a_lone_surrogate_and_a_nul(web):
    room = web.sim.room_by_topic(GRID1)
    ws = await web.client.ws_connect("/api/sim/live")
    await web.sim.post(room.id, TENANT, "坏字符 \ud800 在这里")
    await web.sim.post(room.id, TENANT, "空字符 \x00 在这里")
    answer = await web.client.post(f"/api/sim/rooms/{room.id}/messages",
                                   data=json.dumps({"sender_id": TENANT, "text": "之后 \ud800 的一句"}),
                                   headers={"Content-Type": "application/json"})
    assert answer.status == 202
    await web.sim.post(room.id, TENANT, "后来的一句")
    texts = []
    async with asyncio.timeout(5):
        while "后来的一句" not in texts:
            event = await ws.receive_json()
            if event["type"] == "message":
                texts.append(event["message"]["text"])
    assert texts[:4] == ["坏字符 \ufffd 在这里", "空字符 \x00 在这里", "之后 \ufffd 的一句", "后来的一句"]
    assert not ws.closed
    await ws.close()
    await web.bot.settle(web.clock)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\tplain", "\rplain"])
def test_the_formula_guard_covers_tab_and_carriage_return(text):
    assert _cell(text) == "'" + text


async def test_exports_guard_tab_and_cr_led_cells(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    async with web.bot.db.unit_of_work() as s:
        await s.execute(update(TicketRow).values(text="\t=HYPERLINK(\"http://x\")"))
    await web.login("chenli")
    text = (await (await web.client.get("/console/export.csv")).read()).decode("utf-8-sig")
    assert "'\t=HYPERLINK" in text
    book = load_workbook(io.BytesIO(await (await web.client.get("/console/export.xlsx")).read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][6] == "'\t=HYPERLINK(\"http://x\")"
