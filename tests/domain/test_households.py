"""The household registry: address keys, matching nicknames to households, who is in no group, counting."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.acks import Member, count_room
from bot.domain.addresses import normalize_address
from bot.domain.grid import GridNode, GridTree
from bot.domain.households import (
    Household, HouseholdError, HouseholdMember, HouseholdRegistry, Membership, Proxy, Tenant, audience_households,
    match_member, reachable, unreached, with_households, with_representative,
)
from bot.domain.people import household_of

DAY = date(2024, 6, 1)


@pytest.mark.parametrize("written", ["3号楼2单元201", "3栋2单元201室", "3-2-201", "3幢2单元201", "三号楼二单元201",
                                     "3#2-201", "３－２－２０１", "3 — 2 — 201", "江桥花苑3号楼2单元201室",
                                     "3号2单元201", "03-2-201"])
def test_spellings_of_one_flat_share_a_key(written: str) -> None:
    assert normalize_address(written) == "3-2-201"


@pytest.mark.parametrize(("written", "key"), [
    ("3幢201", "3-201"), ("3号楼201室", "3-201"), ("A栋201", "A-201"), ("201室", "201"), ("2单元201", "2单元-201"),
    ("李家村3组12号", "李家村3组12号"), ("李家村三组12号", "李家村3组12号"), ("东头12号201室", "东头12号-201"),
    ("西巷8号2楼", "西巷8号-2楼"), ("十二号楼201", "12-201"),
])
def test_address_keys(written: str, key: str) -> None:
    assert normalize_address(written) == key


@pytest.mark.parametrize("nickname", ["3-201 王芳", "1-1-101 王芳", "东头12号 陈老板", "201 小刘", "2楼 小吴"])
def test_keys_from_nicknames_stay_as_household_of_gives_them(nickname: str) -> None:
    key = household_of(nickname)
    assert key is not None and normalize_address(key) == key


@pytest.mark.parametrize("text", ["3号楼", "王芳", "", None, "二单元"])
def test_what_names_no_household(text: str | None) -> None:
    assert normalize_address(text) is None


def _household(node: str, address: str, *names: str, **kw) -> Household:
    return Household.at(node, address, members=[HouseholdMember(n) for n in names], **kw)


def _tree() -> GridTree:
    return GridTree(["社区", "微网格", "楼道", "房东群"], [
        GridNode("C", "社区", "社区", 0),
        GridNode("B3", "3号楼", "微网格", 1, parent="C"),
        GridNode("B3-1", "3号楼1单元", "楼道", 2, parent="B3"),
        GridNode("E12", "东头12号", "微网格", 1, parent="C"),
        GridNode("E12-A", "东头12号出租屋", "房东群", 2, parent="E12"),
        GridNode("W8", "西巷8号出租屋", "房东群", 1, parent="C"),
    ])


def test_a_nickname_that_says_less_finds_the_only_household_it_can_be() -> None:
    alone = HouseholdRegistry([_household("B3", "3号楼2单元201", "王芳")])
    assert match_member("3-201 王芳", alone).key == "3-2-201"
    assert match_member("3-201王芳", alone).key == "3-2-201"
    both = HouseholdRegistry([_household("B3", "3号楼2单元201", "王芳"), _household("B3", "3号楼1单元201", "马丽")])
    assert match_member("3-201 王芳", both) is None  # which 201? nobody guesses
    assert match_member("3-1-201 马丽", both).key == "3-1-201"
    assert match_member("3栋2单元201室-王芳", both).key == "3-2-201"
    assert match_member("5-201 王芳", both) is None
    assert match_member("王芳", both) is None  # a name alone is anybody's


def test_a_bare_room_number_counts_only_in_its_own_groups() -> None:
    tree = _tree()
    registry = HouseholdRegistry([_household("E12-A", "东头12号201室", "小刘"),
                                  _household("W8", "西巷8号201", "小何")], tree)
    assert match_member("201 小刘", registry) is None
    only = HouseholdRegistry([_household("E12-A", "东头12号201室", "小刘")], tree)
    assert match_member("201 小刘", only) is None  # even where only one 201 is known: a 201 of which house?
    assert match_member("201 小刘", only, node_code="E12-A") is not None
    assert match_member("201 小刘", registry, node_code="E12-A").ref == "E12-A/东头12号-201"
    # the micro-grid's group above the rental house holds its households too
    assert match_member("201 小刘", registry, node_code="E12").ref == "E12-A/东头12号-201"
    assert match_member("201 小刘", registry, node_code="B3") is None
    # without the tree, only the household's own node
    assert match_member("201 小刘", HouseholdRegistry(registry), node_code="E12") is None


def test_a_registered_nickname_finds_its_household_even_without_an_address() -> None:
    grandma = HouseholdMember("金奶奶", phone="13812345678",
                              proxy=Proxy("金强", "儿子", nickname="强子@杭州", where="在杭州工作"))
    registry = HouseholdRegistry([Household.at("B3", "3号楼1单元301", members=[grandma]),
                                  _household("B3", "3号楼1单元302", "马丽")])
    assert match_member("强子@杭州", registry).key == "3-1-301"
    assert match_member("强子@杭州", registry, node_code="E12") is None  # not a household of that group's node


def test_a_tenant_speaks_for_the_household_only_while_living_there() -> None:
    gone = Tenant("小李", nickname="3-1-401 小李", moved_in=date(2023, 1, 1), moved_out=DAY)
    registry = HouseholdRegistry([Household.at("B3", "3号楼1单元401", tenants=[gone])])
    assert match_member("3-1-401 小李", registry, on=date(2024, 5, 31)).key == "3-1-401"
    # from the move-out day on, not even the address in the old nickname makes them speak for it
    assert match_member("3-1-401 小李", registry, on=DAY) is None
    assert match_member("3-1-401 小张", registry, on=DAY).key == "3-1-401"  # someone else from that flat


def test_reachable_through_a_member_a_proxy_or_a_current_tenant() -> None:
    parent = Household.at("B3", "3号楼1单元301", members=[
        HouseholdMember("金奶奶", proxy=Proxy("王敏", "邻居", nickname="敏敏"))])
    assert reachable(parent, [Membership("g", "w1", "敏敏")], DAY)
    assert not reachable(parent, [Membership("g", "w1", "敏敏的妈妈")], DAY)
    assert not reachable(parent, [], DAY)
    rented = Household.at("B3", "3号楼1单元401", tenants=[Tenant("小周", nickname="周周", moved_in=date(2024, 3, 1))])
    assert reachable(rented, [Membership("g", "w2", "周周")], DAY)
    assert not reachable(rented, [Membership("g", "w2", "周周")], date(2024, 2, 29))  # not moved in yet


def test_a_proxy_registered_for_one_group_does_not_count_from_another() -> None:
    parent = Household.at("B3", "3号楼1单元301", members=[
        HouseholdMember("金奶奶", proxy=Proxy("王敏", "邻居", nickname="敏敏", group="3号楼1单元楼道群"))])
    assert reachable(parent, [Membership("3号楼1单元楼道群", "w1", "敏敏")], DAY)
    assert not reachable(parent, [Membership("跳舞群", "w1", "敏敏")], DAY)


def test_unreached_lists_the_households_nobody_in_any_group_speaks_for() -> None:
    tree = _tree()
    registry = HouseholdRegistry([
        _household("B3", "3号楼1单元101", "周一"),
        Household.at("B3", "3号楼1单元102", members=[HouseholdMember("吴奶奶", proxy=Proxy("吴刚", "儿子",
                                                                                         nickname="吴刚"))]),
        _household("B3", "3号楼1单元103", "郑四"),
        _household("E12-A", "东头12号201", "小刘"),
        _household("E12-A", "东头12号202", "小何"),
    ], tree)
    memberships = [Membership("3号楼1单元楼道群", "w1", "3-1-101 周一", "B3-1"),
                   Membership("杭州老乡群", "w2", "吴刚"),
                   Membership("东头12号房东租客群", "w3", "201 小刘", "E12-A"),
                   Membership("东头12号房东租客群", "w4", "301 阿强", "E12-A")]
    assert [h.ref for h in unreached(registry, memberships, DAY)] == ["B3/3-1-103", "E12-A/东头12号-202"]
    assert reachable(registry.get("B3/3-1-101"), memberships, DAY, registry=registry)


def test_audience_households_leave_staff_out_and_join_a_household_s_members() -> None:
    registry = HouseholdRegistry([Household.at("B3", "3号楼2单元201", members=[
        HouseholdMember("王芳"), HouseholdMember("张伟", "配偶", nickname="老张")])])
    members = [Membership("g", "w1", "3-201 王芳", "B3"), Membership("g", "w2", "老张", "B3"),
               Membership("g", "w3", "5-101 宋老师", "B3"), Membership("g", "w4", "路人"),
               Membership("g", "staff", "3-2-201 楼道长")]
    found = audience_households(members, registry, staff={"staff"})
    assert found == {"B3/3-2-201": ("w1", "w2"), "5-101": ("w3",), "member:w4": ("w4",)}


def test_acks_count_a_household_once_through_the_registry() -> None:
    registry = HouseholdRegistry([Household.at("B3", "3号楼2单元201", members=[
        HouseholdMember("王芳"), HouseholdMember("张伟", "配偶", nickname="老张")])])
    members = [Member("w1", "3-201 王芳", household_of("3-201 王芳"), acked=True),
               Member("w2", "老张", household_of("老张")), Member("w3", "5-101 宋老师", "5-101")]
    before = count_room("g", "微网格", members, staff=())
    assert (before.households, before.acked_households) == (3, 1)
    after = count_room("g", "微网格", with_households(members, registry, room_key="g", node_code="B3"), staff=())
    assert (after.households, after.acked_households) == (2, 1)
    assert after.missing == (("w3", "5-101 宋老师"),)  # 老张's household has replied: he is not chased


def test_phones_are_masked_when_shown_and_never_in_a_repr() -> None:
    member = HouseholdMember("王芳", phone="13812345678", proxy=Proxy("王强", "儿子", phone="13987654321"))
    assert member.shown_phone == "138****5678" and member.proxy.shown_phone == "139****4321"
    household = Household.at("B3", "3-201", members=[member], tenants=[Tenant("小李", phone="13700001111")])
    assert "5678" not in repr(household) and "4321" not in repr(household) and "1111" not in repr(household)
    assert Tenant("小李", phone="13700001111").shown_phone == "137****1111"


def test_one_representative_per_household_and_who_speaks_for_it() -> None:
    with pytest.raises(HouseholdError):
        _household("B3", "3-201", "王芳", representative="李四")
    with pytest.raises(HouseholdError):
        _household("B3", "3号楼", "王芳")
    rented = Household.at("B3", "3-201", tenants=[Tenant("小周", moved_in=date(2024, 1, 1))], representative="小周")
    assert rented.spokesperson(DAY).name == "小周" and rented.rented
    family = Household.at("B3", "3-202", members=[HouseholdMember("张伟", "配偶"), HouseholdMember("王芳")])
    assert family.spokesperson(DAY).name == "王芳"  # the head when nobody is named
    assert with_representative(family, "张伟").spokesperson(DAY).name == "张伟"
    with pytest.raises(HouseholdError):
        with_representative(family, "小周")


def test_a_household_is_registered_once() -> None:
    with pytest.raises(HouseholdError):
        HouseholdRegistry([_household("B3", "3号楼2单元201", "王芳"), _household("B3", "3-2-201", "张伟")])
    assert len(HouseholdRegistry([_household("B3", "3-2-201", "王芳"), _household("B4", "3-2-201", "张伟")])) == 2
