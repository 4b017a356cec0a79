"""Recognising people and finding who answers for a node."""

from __future__ import annotations

from bot.domain.people import Directory, household_of


def test_household_from_group_nickname() -> None:
    assert household_of("3-201 王芳") == "3-201"
    assert household_of("1-1-101 王芳") == "1-1-101"
    assert household_of("东头12号 陈老板") == "东头12号"
    assert household_of("王芳") is None
    assert household_of("") is None


def test_identify_and_responsibility(sample_config) -> None:
    d = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    assert d.identify("wxid_chenli", "whatever").key == "chen_li"
    assert d.identify("wxid_zhangayi", "whatever").key == "zhang_ayi"
    assert d.identify("unknown", "张阿姨") is None  # a display name identifies nobody (anyone can take it)
    assert d.identify("unknown", "路人甲") is None
    # a landlord group: the landlord answers; a micro-grid group without its own: its leader
    assert d.responsible("JQS-02-01-A").person.key == "fd_chen"
    assert d.responsible("JQS-01-03").person.key == "huang_min"
    assert d.responsible("JQS-02-01-A", prefer_role="民警").person.key == "police_he"
    assert d.leads("chen_li", "JQS-01-03-1") and not d.leads("chen_li", "JQS-02")
    assert d.handles("police_he", "JQS-03-01-A") and not d.leads("police_he", "JQS")
