"""Whatever arrives, parse() answers and never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.parsing import CATEGORIES, KINDS, URGENCIES, Lexicon, ParseContext, parse

any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=300)


@settings(max_examples=400, deadline=None)
@given(any_text, st.booleans())
def test_arbitrary_unicode(text, pending):
    result = parse(text, ParseContext(notice_pending=pending))
    assert result.kind in KINDS
    assert not result.explanation[0].startswith("解析出错")  # the last-resort guard must never be what answers
    assert set(result.to_dict()["location"]) == {"building", "unit", "room", "place"}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="楼栋号单元室0123456789一二三四五六七八九十#-燃气火电梯收到+1 \x00\ud800\u202e", max_size=60))
def test_address_like_noise(text):
    result = parse(text)
    assert result.kind in KINDS and not result.explanation[0].startswith("解析出错")


def test_huge_and_control_texts():
    assert parse("楼道灯坏了" * 200_000).kind == "report"  # a megabyte: judged on its beginning
    assert parse("\x00" * 1000).kind == "chat"
    assert parse("\ud800\udfff\ud83d").kind in KINDS
    assert parse("\u202e\u200b收到").kind == "ack"


cue_pieces = st.sampled_from(["收到", "+1", "我家也", "33号楼", "三单元", "五零二室", "3-1-201", "着火", "煤气味", "修好了",
                              "没修好", "报的", "查询", "1024号工单", "【通知】", "红包", "通仙路", "路边", "村东头",
                              "老人", "打不通", "\u200b", "\x00", "\ud83d", "🔥", "！！", "樓", "电驴"])
noise = st.text(alphabet=st.characters(codec=None, categories=None), max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(cue_pieces, noise), max_size=25), st.booleans())
def test_cue_words_in_any_order(pieces, pending):
    """Real cue words mixed with noise reach the deep branches (locations, urgency, queries) and still answer."""
    lexicon = Lexicon.from_mapping({"places": ["龙王庙"], "aliases": {"电驴": "电动车"}, "urgent": ["管涌"]})
    result = parse("".join(pieces), ParseContext(notice_pending=pending), lexicon)
    assert result.kind in KINDS
    assert not result.explanation[0].startswith("解析出错")
    if result.kind == "report":
        assert result.category in CATEGORIES and result.urgency in URGENCIES
    else:
        assert result.category is None and result.urgency is None
    assert 0.0 <= result.confidence <= 1.0
    for value in result.location.to_dict().values():
        assert value is None or isinstance(value, str)


gram_text = st.lists(st.sampled_from(["\x00", "\x01", "^", "$", " ", "7", "水", "漏", "楼", "上", "🔥", "\U0010fffd",
                                      "\ud800", "收到", "的事大家", "上周"]) | st.characters(codec=None),
                     max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(gram_text, st.booleans())
def test_integer_ngram_lookup_is_the_string_lookup(text, pending):
    """Model.predict_message (n-grams as integer keys) answers as predict() over the named features, to the bit."""
    from bot.domain.parsing.model import default_model, iter_features
    from bot.domain.parsing.parser import prepare_text, rules

    model = default_model()
    lexicon = Lexicon.default()
    prepared = prepare_text(text, lexicon)
    rule = rules(prepared, ParseContext(notice_pending=pending), lexicon)  # the rules' reading either way
    for raw in (prepared, text):  # the parser's prepared text, and any str (NUL, surrogates, the last plane)
        want = model.predict(iter_features(raw, rule))
        got = model.predict_message(raw, rule)
        assert (got.kind, got.category, got.urgent, got.reasons) == (want.kind, want.category, want.urgent, want.reasons)


@settings(max_examples=300, deadline=None)
@given(gram_text)
def test_settled_is_the_settled_pattern(text):
    from bot.domain.parsing.situations import SETTLED, settled

    want, got = SETTLED.search(text), settled(text)
    assert (want and (want.span(), want.group(0))) == (got and (got.span(), got.group(0)))
