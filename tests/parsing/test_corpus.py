"""The parser against the labelled corpus: the issue's floors, and the held-out split reported."""

from __future__ import annotations

import pytest

from tests.parsing.corpus import HELDOUT, TUNE, load, score


def test_corpus_is_big_and_varied_enough():
    items = load(TUNE) + load(HELDOUT)
    assert len(items) >= 500
    kinds = {i["kind"] for i in items}
    categories = {i["category"] for i in items if i["kind"] == "report"}
    assert kinds == {"report", "ack", "query", "chat"}
    assert categories == {"safety", "sanitation", "repair", "dispute", "assistance", "security", "health",
                          "inquiry", "other"}
    assert sum(1 for i in items if i.get("urgency") == "urgent") >= 40
    assert len(load(HELDOUT)) >= 150


def assert_floors(s, *, urgent_recall: float) -> None:
    """The issue's floors; urgent recall is passed in because the held-out split is guarded lower."""
    print(s.summary())
    assert s.kind_accuracy >= 0.93
    assert s.report_f1 >= 0.95
    assert s.category_accuracy >= 0.88
    assert s.location_exact >= 0.90
    assert s.urgent_recall >= urgent_recall


def test_floors_on_the_tune_split():
    assert_floors(score(load(TUNE)), urgent_recall=0.97)


def test_held_out_split_never_tuned_on():
    """Held out: never used to tune. Lines 1-147 were written with the first parser; lines 148-257 were written
    by a second author before the second round of tuning (which used only the tune split). Before that round the
    parser reached kind 0.845, category 0.702 and urgent recall 0.591 on those 110 fresh lines.

    Third round: urgent recall was 0.905 here. 109 new tune lines (90 urgent, written from the issue's list of
    emergencies, not from these misses) scored 0.433 urgent recall with the old word lists — which is why
    urgency is now also read from situations (bot/domain/parsing/situations.py). After that round, run once
    on this split: 0.976 (41 of 42). The issue's floors hold here in full."""
    assert_floors(score(load(HELDOUT)), urgent_recall=0.97)


def test_whole_corpus():
    assert_floors(score(load(TUNE) + load(HELDOUT)), urgent_recall=0.97)


@pytest.mark.parametrize("path", [TUNE, HELDOUT], ids=["tune", "heldout"])
def test_every_label_is_well_formed(path):
    for item in load(path):
        assert item["text"]
        if item["kind"] == "report":
            assert item["urgency"] in ("urgent", "normal", "low")
            if item["category"] == "inquiry":
                assert item["urgency"] == "low", item["text"]
        else:
            assert item["category"] is None and item["urgency"] is None
