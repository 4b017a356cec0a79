"""The JSON API (tokens, scope, actions, OpenAPI) and Open311 GeoReport v2 (fields, formats, errors)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from openapi_spec_validator import validate
from sqlalchemy import select

from storage.models import OutboxRow, TicketRow

GRID1, GRID2, TENANT = "江桥花苑3号楼微网格", "老村东片微网格", "sim:3-201 王芳"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


async def numbers(web):
    async with web.bot.db.unit_of_work() as s:
        return {t.node_code: t.number for t in await s.scalars(select(TicketRow))}


async def test_the_openapi_document_is_valid(web):
    document = await (await web.client.get("/api/v1/openapi.json")).json()
    validate(document)
    assert {"/tickets", "/tickets/{number}", "/tickets/{number}/actions", "/nodes", "/notices", "/notices/{number}",
            "/digest"} <= set(document["paths"])


async def test_tokens_scope_and_actions(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    n = await numbers(web)
    assert (await web.client.get("/api/v1/tickets")).status == 401
    assert (await web.client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})).status == 401
    mine = await (await web.client.get("/api/v1/tickets", headers=web.bearer("chenli"))).json()
    assert [t["number"] for t in mine["tickets"]] == [n["JQS-01-03"]]
    every = await (await web.client.get("/api/v1/tickets?state=open", headers=web.bearer("shuji"))).json()
    assert {t["number"] for t in every["tickets"]} == set(n.values())
    assert (await web.client.get(f"/api/v1/tickets/{n['JQS-02-01']}", headers=web.bearer("chenli"))).status == 403
    refused = await web.client.post(f"/api/v1/tickets/{n['JQS-02-01']}/actions", headers=web.bearer("chenli"),
                                    json={"action": "accept"})
    assert refused.status == 403
    bad = await web.client.post(f"/api/v1/tickets/{n['JQS-01-03']}/actions", headers=web.bearer("chenli"),
                                json={"action": "explode"})
    assert bad.status == 400
    done = await web.client.post(f"/api/v1/tickets/{n['JQS-01-03']}/actions", headers=web.bearer("chenli"),
                                 json={"action": "accept"})
    body = await done.json()
    assert done.status == 200 and body["ticket"]["state"] == "accepted"
    viewer = await web.client.post(f"/api/v1/tickets/{n['JQS-02-01']}/actions", headers=web.bearer("kan"),
                                   json={"action": "accept"})
    assert viewer.status == 403  # a viewer reads its subtree, and acts nowhere
    detail = await (await web.client.get(f"/api/v1/tickets/{n['JQS-01-03']}", headers=web.bearer("chenli"))).json()
    assert [step["action"] for step in detail["timeline"]] == ["open", "accept"]
    assert detail["created_at"].endswith("+08:00")


async def test_text_search_finds_a_two_character_word(web):
    await web.say(GRID1, TENANT, "3号楼燃气味很重")
    await web.say(GRID1, "sim:3-202 李强", "楼道灯坏了好几天了")
    found = await (await web.client.get("/api/v1/tickets?q=燃气", headers=web.bearer("shuji"))).json()
    assert [t["text"] for t in found["tickets"]] == ["3号楼燃气味很重"]
    assert (await (await web.client.get("/api/v1/tickets?q=飞碟", headers=web.bearer("shuji"))).json())[
        "tickets"] == []
    assert len((await (await web.client.get("/api/v1/tickets?q=楼", headers=web.bearer("shuji"))).json())[
        "tickets"]) == 2  # one character: read by scanning


async def test_nodes_notices_and_digest(web):
    nodes = await (await web.client.get("/api/v1/nodes", headers=web.bearer("chenli"))).json()
    assert {n["code"] for n in nodes["nodes"]} >= {"JQS-01", "JQS-01-03"} and "JQS-02" not in {
        n["code"] for n in nodes["nodes"]}
    posted = await web.client.post("/api/v1/notices", headers=web.bearer("chenli"),
                                   json={"node": "JQS-01", "text": "明晚8点停水"})
    assert posted.status == 201
    assert (await web.client.post("/api/v1/notices", headers=web.bearer("chenli"),
                                  json={"node": "JQS-02", "text": "越权"})).status == 403
    listed = await (await web.client.get("/api/v1/notices", headers=web.bearer("chenli"))).json()
    assert listed["notices"][0]["text"].endswith("明晚8点停水") and listed["notices"][0]["groups"] > 0
    digest = await (await web.client.get("/api/v1/digest?period=week", headers=web.bearer("shuji"))).json()
    assert digest["text"].startswith("【江桥社区·周报】") and "tickets" in digest


async def test_open311_services_in_both_formats(web):
    services = await (await web.client.get("/open311/v2/services.json")).json()
    assert {s["service_code"] for s in services} >= {"safety", "repair", "assistance"}
    assert all(set(s) == SERVICE_FIELDS for s in services)
    xml = ET.fromstring(await (await web.client.get("/open311/v2/services.xml")).read())
    assert xml.tag == "services" and {c.tag for c in xml[0]} == SERVICE_FIELDS
    definition = await (await web.client.get("/open311/v2/services/repair.json")).json()
    assert definition == {"service_code": "repair", "attributes": []}
    missing = await web.client.get("/open311/v2/services/nothing.json")
    assert missing.status == 404 and (await missing.json())[0]["code"] == 404
    discovery = await (await web.client.get("/open311/v2/discovery.json")).json()
    assert discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]


async def test_open311_requests_file_and_read(web, monkeypatch):
    monkeypatch.setenv("GRIDBOT_OPEN311_API_KEY", "k-123")
    form = {"api_key": "k-123", "service_code": "repair", "address_string": "江桥花苑3号楼",
            "description": "楼道灯不亮", "first_name": "芳", "last_name": "王", "phone": "13800000000"}
    denied = await web.client.post("/open311/v2/requests.json", data={**form, "api_key": "wrong"})
    assert denied.status == 403 and (await denied.json())[0]["code"] == 403
    incomplete = await web.client.post("/open311/v2/requests.json", data={**form, "address_string": ""})
    assert incomplete.status == 400
    created = await web.client.post("/open311/v2/requests.json", data=form)
    body = await created.json()
    assert created.status == 201 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    ident = body[0]["service_request_id"]
    async with web.bot.db.unit_of_work() as s:
        ticket = await s.scalar(select(TicketRow).where(TicketRow.number == int(ident)))
    assert ticket.node_code == "JQS-01-03" and ticket.reporter_name == "王芳" and ticket.category == "repair"
    async with web.bot.db.unit_of_work() as s:
        to = list(await s.scalars(select(OutboxRow.to_id)))
    assert to and not [t for t in to if t.startswith("open311:")]  # the group hears of it; the caller over HTTP
    one = await (await web.client.get(f"/open311/v2/requests/{ident}.json?api_key=k-123")).json()
    assert set(one[0]) == REQUEST_FIELDS and one[0]["status"] == "open"
    assert one[0]["requested_datetime"].endswith("+08:00")
    listed = await (await web.client.get("/open311/v2/requests.json?service_code=repair&status=open&api_key=k-123")).json()
    assert [r["service_request_id"] for r in listed] == [ident]
    assert await (await web.client.get("/open311/v2/requests.json?status=closed&api_key=k-123")).json() == []
    window = await (await web.client.get(
        "/open311/v2/requests.json?start_date=2026-11-24T00:00:00%2B08:00&api_key=k-123")).json()
    assert window == []
    xml = ET.fromstring(await (await web.client.get(f"/open311/v2/requests/{ident}.xml?api_key=k-123")).read())
    assert xml.tag == "service_requests" and xml[0].tag == "request"
    assert {c.tag for c in xml[0]} == REQUEST_FIELDS
    assert (await web.client.get("/open311/v2/requests/99999.json?api_key=k-123")).status == 404
    bad = await web.client.get("/open311/v2/requests.json?start_date=yesterday&api_key=k-123")
    assert bad.status == 400 and set((await bad.json())[0]) == {"code", "description"}
    errors = ET.fromstring(await (await web.client.get("/open311/v2/requests/99999.xml?api_key=k-123")).read())
    assert errors.tag == "errors" and errors[0].find("code").text == "404"


PHONE_TEXT = "东头的垃圾堆了好几天没人清，都臭了，联系我13912345678"


async def test_open311_reading_needs_the_key(web, monkeypatch):
    monkeypatch.setenv("GRIDBOT_OPEN311_API_KEY", "k-123")
    await web.say(GRID2, "sim:东头12号 陈老板", PHONE_TEXT)
    n = await numbers(web)
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{n['JQS-02-01']}.json",
                 "/open311/v2/requests.json?api_key=wrong", f"/open311/v2/requests/{n['JQS-02-01']}.json?api_key="):
        denied = await web.client.get(path)
        assert denied.status == 403, path
        assert await denied.json() == [{"code": 403, "description": "a valid api_key is required"}]
    xml = await web.client.get(f"/open311/v2/requests/{n['JQS-02-01']}.xml")
    errors = ET.fromstring(await xml.read())
    assert xml.status == 403 and errors.tag == "errors" and errors[0].find("code").text == "403"
    monkeypatch.delenv("GRIDBOT_OPEN311_API_KEY")  # no key configured: nobody reads
    assert (await web.client.get("/open311/v2/requests.json?api_key=")).status == 403
    monkeypatch.setenv("GRIDBOT_OPEN311_API_KEY", "k-123")
    keyed = await (await web.client.get("/open311/v2/requests.json?api_key=k-123")).json()
    assert [r["description"] for r in keyed] == [PHONE_TEXT]  # the key holder reads in full


async def test_a_public_open311_feed_is_masked_and_nameless(web, monkeypatch):
    from dataclasses import replace

    monkeypatch.setenv("GRIDBOT_OPEN311_API_KEY", "k-123")
    monkeypatch.setattr(web.bot, "config", replace(web.bot.config, web=replace(web.bot.config.web,
                                                                                open311_public=True)))
    created = await web.client.post("/open311/v2/requests.json", data={
        "api_key": "k-123", "service_code": "repair", "address_string": "江桥花苑3号楼",
        "description": "我是王芳，楼道灯不亮，电话 138-1234-5678，身份证110101199003071234",
        "first_name": "芳", "last_name": "王", "phone": "13812345678"})
    ident = (await created.json())[0]["service_request_id"]
    listed = await (await web.client.get("/open311/v2/requests.json")).json()
    one = await (await web.client.get(f"/open311/v2/requests/{ident}.json")).json()
    xml = (await (await web.client.get(f"/open311/v2/requests/{ident}.xml")).read()).decode("utf-8")
    for body in (listed, one):
        assert set(body[0]) == REQUEST_FIELDS
        description = body[0]["description"]
        assert "138****5678" in description and "110***********1234" in description
        assert "13812345678" not in description and "1234-5678" not in description and "王芳" not in description
    assert "138****5678" in xml and "王芳" not in xml and "1234-5678" not in xml
    keyed = await (await web.client.get(f"/open311/v2/requests/{ident}.json?api_key=k-123")).json()
    assert "王芳" in keyed[0]["description"] and "138-1234-5678" in keyed[0]["description"]


async def test_the_api_masks_for_accounts_that_do_not_answer_for_the_ticket(web):
    await web.say(GRID2, "sim:东头12号 陈老板", PHONE_TEXT)
    n = await numbers(web)
    ticket = n["JQS-02-01"]
    viewer = await (await web.client.get("/api/v1/tickets", headers=web.bearer("kan"))).json()
    assert [t["text"] for t in viewer["tickets"]] == ["东头的垃圾堆了好几天没人清，都臭了，联系我139****5678"]
    one = await (await web.client.get(f"/api/v1/tickets/{ticket}", headers=web.bearer("kan"))).json()
    assert one["text"].endswith("139****5678")
    secretary = await (await web.client.get(f"/api/v1/tickets/{ticket}", headers=web.bearer("shuji"))).json()
    assert secretary["text"] == PHONE_TEXT  # 社区书记 of the whole community: on the ticket's chain
    listed = await (await web.client.get("/api/v1/tickets", headers=web.bearer("shuji"))).json()
    assert [t["text"] for t in listed["tickets"]] == [PHONE_TEXT]


async def test_the_api_shows_a_grid_leader_the_text_of_their_grid(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了，电话13812345678")
    mine = await (await web.client.get("/api/v1/tickets", headers=web.bearer("chenli"))).json()
    assert [t["text"] for t in mine["tickets"]] == ["3号楼楼道灯坏了，电话13812345678"]
