"""Notice figures from the household registry, and the leader's `#无人在群`, through the simulator on both
databases.

The denominator, where a node's households are registered, is the households registered at the nodes the
notice reached: members count under their registered household (two of one household replying are one), and a
registered household that nobody in these groups speaks for is counted, unreplied, in its node's group.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.households import Household, HouseholdMember, Proxy
from bot.domain.households_wording import UNREACHED_LIMIT, unreached_answer
from bot.households import HouseholdDesk
from bot.households_import import read_households
from storage.household_repository import HouseholdRepository
from tests.conftest import ROOT, TZ

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
SAMPLE = ROOT / "docs" / "samples" / "households_sample.csv"
COMMUNITY = "江桥社区工作群"
SECRETARY = "wxid_lihongmei"
BUILDING = "江桥花苑1号楼微网格"
UNIT1 = "1号楼1单元楼道群"
GAS = "#通知 截止 明天18点 燃气安全检查，请各户明天在家配合入户检查"


@pytest.fixture
def bot(sim_bot):
    return sim_bot


async def say(bot, sim, clock, topic, sender, text, *, name=None):
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text, sender_name=name)
    await bot.settle(clock)
    return room


def last_reply(room):
    return [m for m in room.history if m.from_bot][-1].text


async def register(db, node: str, households) -> None:
    async with db.unit_of_work() as s:
        await HouseholdRepository(s).replace_node(node, list(households), now=NOW)


def _building() -> list[Household]:
    """1号楼 as registered: 王芳's household has a second member, 老刘, in the group under a plain nickname."""
    return [
        Household.at("JQS-01-01", "1号楼1单元101室", members=[HouseholdMember("王芳", nickname="1-1-101 王芳"),
                                                                HouseholdMember("刘伟", "配偶", nickname="老刘")]),
        Household.at("JQS-01-01", "1号楼1单元201室", members=[HouseholdMember("周杰")]),
        Household.at("JQS-01-01", "1号楼1单元601室",
                     members=[HouseholdMember("吴奶奶", proxy=Proxy("吴强", "儿子", nickname="吴强在杭州"))]),
        Household.at("JQS-01-01", "1号楼1单元302室", members=[HouseholdMember("陈桂英", phone="13800010302")]),
    ]


async def test_two_members_of_a_registered_household_are_one_household(bot, db, clock):
    b, sim = bot
    await register(db, "JQS-01-01", _building())
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, UNIT1, "sim:1-1-101 王芳", "收到")
    await say(b, sim, clock, UNIT1, "sim:laoliu", "收到", name="老刘")
    receipt = last_reply(await say(b, sim, clock, UNIT1, "wxid_qianlaoshi", "#回执 1"))
    # 王芳 and 老刘 are one household: 1 of 3 (101, 201, 601); without the registry 老刘 is a household of his own
    assert "1号楼1单元楼道群：1/3 户（2/4 人）" in receipt


async def test_a_registered_household_nobody_reaches_counts_unreplied_in_its_nodes_group(bot, db, clock):
    b, sim = bot
    await register(db, "JQS-01-01", _building())
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, BUILDING, "sim:1-101 王芳", "收到")
    receipt = last_reply(await say(b, sim, clock, BUILDING, "wxid_zhangayi", "#回执 1"))
    # the building group: its 4 residents' households, and 302 (registered at JQS-01-01, in no group): 1/5
    assert f"{BUILDING}：1/5 户（1/4 人）" in receipt and "另有 1 户无人在群" in receipt
    # 5 here, 3 (101, 201, 601) and 3 in the stairwell groups: each group is counted on its own, as before
    assert "合计：1/11 户、1/10 人已回复（3 个群）" in receipt


async def test_without_a_registry_at_the_node_nicknames_count_as_before(bot, db, clock):
    b, sim = bot
    await register(db, "JQS-01-02", [Household.at("JQS-01-02", "2-301", members=[HouseholdMember("钱多多")])])
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, UNIT1, "sim:1-1-101 王芳", "收到")
    await say(b, sim, clock, UNIT1, "sim:laoliu", "收到", name="老刘")
    receipt = last_reply(await say(b, sim, clock, UNIT1, "wxid_qianlaoshi", "#回执 1"))
    assert "1号楼1单元楼道群：2/4 户（2/4 人）" in receipt


async def test_unreached_lists_exactly_the_households_nobody_reaches(bot, db, clock):
    b, sim = bot
    result = read_households(SAMPLE, "JQS-01-01")
    await register(db, "JQS-01-01", result.households)
    room = await say(b, sim, clock, BUILDING, "wxid_zhangayi", "#无人在群")
    assert "已私信发给您" in last_reply(room)
    [answer] = [m.text for m in sim.direct_history("wxid_zhangayi") if "无人在群" in m.text]
    listed = [line.split()[1] for line in answer.splitlines() if line.startswith("· ")]
    # 302 uses no WeChat; 401's tenant 小林 is in no group; everyone else is in a group (601 by her own nickname)
    assert listed == ["1-1-302（1号楼1单元302室）", "1-2-401（1号楼2单元401室）"]
    assert "138****0302" in answer and "13800010302" not in answer
    assert "共登记 11 户" in answer


async def test_unreached_is_for_leaders_of_that_subtree_only(bot, db, clock):
    b, sim = bot
    await register(db, "JQS-01-01", read_households(SAMPLE, "JQS-01-01").households)
    refusal = last_reply(await say(b, sim, clock, BUILDING, "sim:1-101 王芳", "#无人在群"))
    assert "网格负责人" in refusal and "1-1-302" not in refusal
    # a 楼道长 leads his stairwell, not the building the households are registered at
    refusal = last_reply(await say(b, sim, clock, UNIT1, "wxid_qianlaoshi", "#无人在群 JQS-01-01"))
    assert "不在您负责的范围内" in refusal
    assert not [m for m in sim.direct_history("wxid_qianlaoshi") if "1-1-302" in m.text]
    # the 网格长 above may ask for the building by its code, privately
    await sim.post_direct("wxid_chenli", "陈丽", "#无人在群 JQS-01-01")
    await b.settle(clock)
    assert any("1-1-302" in m.text for m in sim.direct_history("wxid_chenli"))


async def test_reach_says_in_which_group_or_through_which_proxy(bot, db, clock):
    b, sim = bot
    await register(db, "JQS-01-01", read_households(SAMPLE, "JQS-01-01").households)
    await sim.join(sim.room_by_topic(UNIT1).id, "sim:wuqiang", "吴强（601吴奶奶儿子）")
    await sim.leave(sim.room_by_topic(UNIT1).id, "sim:1-1-601 吴奶奶")
    await b.settle(clock)
    async with db.unit_of_work() as s:
        desk = HouseholdDesk(s, b.config, b.directory, clock.now())
        reach = {h.key: how for h, how in await desk.reach("JQS-01-01")}
    assert reach["1-1-601"] == ["经代联系人 吴强（吴奶奶的儿子）在「1号楼1单元楼道群」"]
    assert reach["1-1-101"] == ["在「江桥花苑1号楼微网格」：1-101 王芳", "在「1号楼1单元楼道群」：1-1-101 王芳"]
    assert reach["1-1-302"] == [] and reach["1-2-401"] == []


def test_the_list_stops_at_thirty_lines_and_counts_the_rest():
    lines = [f"户 {i}" for i in range(UNREACHED_LIMIT + 5)]
    text = unreached_answer("江桥花苑1号楼", lines, 40)
    assert text.count("\n· ") == UNREACHED_LIMIT and text.endswith("……还有 5 户")
    assert "户 29" in text and "户 30" not in text


async def test_a_poll_counts_the_registered_households_one_vote_each(bot, db, clock):
    """Where households are registered, a 微议事 is one vote per registered household (王芳 and 老刘 are one), and
    the turnout's denominator is the households registered at the group's node."""
    from storage.poll_repository import PollRepository

    b, sim = bot
    await register(db, "JQS-01-01", _building())
    await say(b, sim, clock, BUILDING, "wxid_zhangayi", "#议事 楼道旧家具周六统一清走吗？ 1.同意 2.不同意 截止 明天20点")
    await say(b, sim, clock, BUILDING, "sim:1-1-101 王芳", "1", name="1-1-101 王芳")
    await say(b, sim, clock, BUILDING, "sim:laoliu", "2", name="老刘")  # the same household: it changes the vote
    room = await say(b, sim, clock, BUILDING, "wxid_zhangayi", "#议事结果")
    async with db.unit_of_work() as s:
        poll = await PollRepository(s).open_in(BUILDING)
        votes = await PollRepository(s).votes(poll)
    assert len(votes) == 1 and votes[0][1] == 2  # one household, its latest vote
    assert "1/4 户" in last_reply(room), last_reply(room)
