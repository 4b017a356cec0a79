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
    assert {"/tickets", "/tickets/{number}", "/tickets/{number}/actions", "/nodes", "/notices", "/digest"} \
        <= set(document["paths"])


async def test_tokens_scope_and_actions(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头垃圾堆了好几天没人清")
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
    one = await (await web.client.get(f"/open311/v2/requests/{ident}.json")).json()
    assert set(one[0]) == REQUEST_FIELDS and one[0]["status"] == "open"
    assert one[0]["requested_datetime"].endswith("+08:00")
    listed = await (await web.client.get("/open311/v2/requests.json?service_code=repair&status=open")).json()
    assert [r["service_request_id"] for r in listed] == [ident]
    assert await (await web.client.get("/open311/v2/requests.json?status=closed")).json() == []
    window = await (await web.client.get(
        "/open311/v2/requests.json?start_date=2026-11-24T00:00:00%2B08:00")).json()
    assert window == []
    xml = ET.fromstring(await (await web.client.get(f"/open311/v2/requests/{ident}.xml")).read())
    assert xml.tag == "service_requests" and xml[0].tag == "request"
    assert {c.tag for c in xml[0]} == REQUEST_FIELDS
    assert (await web.client.get("/open311/v2/requests/99999.json")).status == 404
    bad = await web.client.get("/open311/v2/requests.json?start_date=yesterday")
    assert bad.status == 400 and set((await bad.json())[0]) == {"code", "description"}
    errors = ET.fromstring(await (await web.client.get("/open311/v2/requests/99999.xml")).read())
    assert errors.tag == "errors" and errors[0].find("code").text == "404"
