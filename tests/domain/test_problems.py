"""The problem key: the thing and its state, so only the same problem merges."""

from bot.domain.problems import problem_key, same_problem


def test_the_thing_and_its_state():
    assert problem_key("3号楼电梯又坏了，老人下不了楼") == "电梯:坏"
    assert problem_key("怎么又停水了") == problem_key("我家也没水了") == "水:停"
    assert problem_key("楼上漏水") == "水:漏"
    assert problem_key("3号楼楼道灯还是不亮") == problem_key("楼道灯坏了") == "灯:坏"
    assert problem_key("门禁刷卡没反应") == "门禁:坏"
    assert problem_key("+1 我家也是") is None


def test_different_problems_never_match_and_unknown_never_does():
    assert not same_problem(problem_key("电梯又坏了"), problem_key("3号楼停水了"))
    assert not same_problem(problem_key("停水了"), problem_key("漏水了"))
    assert not same_problem(None, None)
    assert same_problem(problem_key("电梯又坏了"), problem_key("电梯不动了"))
