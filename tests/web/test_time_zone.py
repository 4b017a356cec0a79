"""Times are the deployment's: the simulator is told its zone, the API's description states it, pages name it."""

from __future__ import annotations


async def test_the_simulator_and_the_api_docs_name_the_deployments_zone(web):
    state = await (await web.client.get("/api/sim/state")).json()
    assert state["tz"] == web.bot.config.tz.key == "Asia/Shanghai"
    docs = await (await web.client.get("/api/v1/openapi.json")).json()
    assert "Asia/Shanghai" in docs["info"]["description"] and docs["info"]["x-time-zone"] == "Asia/Shanghai"


async def test_console_pages_say_their_times_are_beijing_time(web):
    await web.login("shuji")
    for path in ("/console", "/console/audit"):
        assert "北京时间（Asia/Shanghai）" in await (await web.client.get(path)).text(), path
