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


def test_floors_on_the_tune_split():
    s = score(load(TUNE))
    print(s.summary())
    assert s.kind_accuracy >= 0.93
    assert s.report_f1 >= 0.95
    assert s.category_accuracy >= 0.88
    assert s.urgent_recall >= 0.97
    assert s.location_exact >= 0.90


def test_held_out_split_never_tuned_on():
    """Held out: never used to tune. Lines 1-147 were written with the first parser; lines 148-257 were written
    by a second author before the second round of tuning (which used only the tune split). Before that round the
    parser reached kind 0.845, category 0.702 and urgent recall 0.591 on those 110 fresh lines.

    The issue's floors hold here except urgent recall, which is 0.905 (38 of 42): it is guarded at 0.90 rather
    than raised by tuning on these lines."""
    s = score(load(HELDOUT))
    print(s.summary())
    assert s.kind_accuracy >= 0.93
    assert s.report_f1 >= 0.95
    assert s.category_accuracy >= 0.88
    assert s.location_exact >= 0.90
    assert s.urgent_recall >= 0.90


def test_whole_corpus():
    s = score(load(TUNE) + load(HELDOUT))
    print(s.summary())
    assert s.kind_accuracy >= 0.93
    assert s.report_f1 >= 0.95
    assert s.category_accuracy >= 0.88
    assert s.location_exact >= 0.90
    assert s.urgent_recall >= 0.96  # 119 of 123: the held-out misses pull it just under 0.97


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
