"""The overview's 待确认 card: how many messages wait, the latest of them, in the account's subtree."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from bot.config import ReviewConfig
from storage.models import ReviewRow
from tests.web.test_console import GRID1, GRID2, TENANT
from tests.web.test_overview import GRID1_OTHER, tile


@pytest.fixture
def sample_config(sample_config):  # every likely report is held for review
    return dataclasses.replace(sample_config, review=ReviewConfig(ticket=0.999, review=0.05))


async def test_the_review_queue_counts_and_shows_the_latest_in_the_accounts_subtree(web):
    await web.say(GRID1, TENANT, "楼下垃圾桶满了两天没人收")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头路灯不亮了")
    await web.say(GRID1_OTHER, "sim:5-601 林阿婆", "5幢楼道的灯坏了")
    async with web.bot.db.unit_of_work() as s:
        items = list(await s.scalars(select(ReviewRow).where(ReviewRow.state == "pending").order_by(ReviewRow.id)))
    assert len(items) == 3
    await web.login("shuji")
    page = await (await web.client.get("/console")).text()
    assert tile(page, "review") == 3 and "data-held='3'" in page
    review = page.split("class='card ov-review'")[1].split("</section>")[0]
    assert re.findall(r"\[(\d+)\]", review) == [str(i.id) for i in reversed(items)]  # the latest first
    assert "href='/console/review'" in review
    await web.login("chenli")
    page = await (await web.client.get("/console")).text()
    review = page.split("class='card ov-review'")[1].split("</section>")[0]
    assert tile(page, "review") == 2 and "路灯" not in review
    assert re.findall(r"\[(\d+)\]", review) == [str(items[2].id), str(items[0].id)]


async def test_no_review_queue_says_so(web):
    await web.login("shuji")
    page = await (await web.client.get("/console")).text()
    assert tile(page, "review") == 0 and "没有待确认的消息" in page
