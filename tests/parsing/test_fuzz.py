"""Whatever arrives, parse() answers and never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.parsing import KINDS, ParseContext, parse

any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=300)


@settings(max_examples=400, deadline=None)
@given(any_text, st.booleans())
def test_arbitrary_unicode(text, pending):
    result = parse(text, ParseContext(notice_pending=pending))
    assert result.kind in KINDS
    assert set(result.to_dict()["location"]) == {"building", "unit", "room", "place"}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="楼栋号单元室0123456789一二三四五六七八九十#-燃气火电梯收到+1 \x00\ud800\u202e", max_size=60))
def test_address_like_noise(text):
    assert parse(text).kind in KINDS


def test_huge_and_control_texts():
    assert parse("楼道灯坏了" * 200_000).kind == "report"  # a megabyte: judged on its beginning
    assert parse("\x00" * 1000).kind == "chat"
    assert parse("\ud800\udfff\ud83d").kind in KINDS
    assert parse("\u202e\u200b收到").kind == "ack"
