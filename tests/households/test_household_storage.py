"""The household registry in the database: an import replaces a node's households whole; they load back as
they were imported (proxies, tenants' dates, phones as given); on both backends."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.households import Household, HouseholdMember, Proxy, Tenant
from storage.household_repository import HouseholdRepository
from tests.conftest import TZ

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def _wu(node: str = "JQS-01-01") -> Household:
    son = Proxy("吴强", "儿子", "13900000601", "吴强（601吴奶奶儿子）", None, "在杭州工作")
    return Household.at(node, "1号楼1单元601室", members=[HouseholdMember("吴奶奶", "户主", "0571-88880601",
                                                                         proxy=son)])


def _rented(node: str = "JQS-01-01") -> Household:
    return Household.at(node, "1号楼2单元401室", members=[HouseholdMember("黄建华", phone="13800020401")],
                        tenants=[Tenant("林小雨", "13800020411", "1-2-401 小林", "1号楼2单元楼道群",
                                        date(2026, 3, 1), date(2027, 3, 1))], representative="林小雨")


async def test_households_load_back_as_imported(db):
    async with db.unit_of_work() as s:
        done = await HouseholdRepository(s).replace_node("JQS-01-01", [_wu(), _rented()], now=NOW, source="a.csv")
    assert (done.removed, done.stored, done.people) == (0, 2, 4)
    async with db.unit_of_work() as s:
        loaded = await HouseholdRepository(s).load(["JQS-01-01"])
    assert loaded == [_wu(), _rented()]  # frozen dataclasses: every field, the proxy and tenancy dates included
    assert loaded[0].members[0].proxy.phone == "13900000601"  # stored as given; masking is for display


async def test_an_import_replaces_that_nodes_households_only(db):
    async with db.unit_of_work() as s:
        repo = HouseholdRepository(s)
        await repo.replace_node("JQS-01-01", [_wu(), _rented()], now=NOW)
        await repo.replace_node("JQS-01-02", [Household.at("JQS-01-02", "2-301", members=[HouseholdMember("钱多多")])],
                                now=NOW)
    async with db.unit_of_work() as s:
        repo = HouseholdRepository(s)
        done = await repo.replace_node("JQS-01-01", [_rented()], now=NOW)
        assert (done.removed, done.stored) == (2, 1)
    async with db.unit_of_work() as s:
        repo = HouseholdRepository(s)
        assert [h.key for h in await repo.load(["JQS-01-01"])] == ["1-2-401"]
        assert await repo.counts() == {"JQS-01-01": 1, "JQS-01-02": 1}
        assert await repo.nodes() == {"JQS-01-01", "JQS-01-02"}
        assert await repo.counts(["JQS-01-02", "JQS-09"]) == {"JQS-01-02": 1}


async def test_a_failed_import_leaves_the_previous_one(db):
    async with db.unit_of_work() as s:
        await HouseholdRepository(s).replace_node("JQS-01-01", [_wu()], now=NOW)
    try:
        async with db.unit_of_work() as s:
            await HouseholdRepository(s).replace_node("JQS-01-01", [_rented()], now=NOW)
            raise RuntimeError("the file turned out broken halfway")
    except RuntimeError:
        pass
    async with db.unit_of_work() as s:
        assert [h.key for h in await HouseholdRepository(s).load(["JQS-01-01"])] == ["1-1-601"]
