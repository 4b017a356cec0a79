"""The parser measured by writer (tests/data/writers/): whole writers held out, never tuned on, misses never read.

Before any tuning (the parser of the first wave, commit 51f1f08, scored once on the six held-out writers):
kind 0.594, ticket precision 0.524, non-reports answered with a ticket 37.3 per 100, reports lost 0.110,
category 0.667, urgent recall 0.500, location fields 0.954 (places matched leniently, as docs/labelling.md says).
After tuning (19 tune writers and the old corpus; scored once on the held-out writers at the end of the session):
kind 0.935, ticket precision 0.995, 0.2 per 100, lost 0.037, category 0.886, urgent recall 0.882, location 0.964.
Two of the issue's floors are not met there — reports lost ≤ 0.03 and urgent recall ≥ 0.97 — so the held-out
test guards what was reached (ISSUE_FLOORS are kept beside it, and the issue stays open); cross-validation by
writer on the tune writers met every floor. These six writers have now been scored twice: a later round of tuning
should be judged on newly written held-out writers.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.parsing.writers import (
    FIRST_HELDOUT,
    FRESH_HELDOUT,
    HELDOUT_WRITERS,
    PLAIN_HELDOUT,
    QUIET_WEEK,
    WRITERS,
    lines_of,
    load,
    misses,
    old_corpus,
    old_context,
    score,
    tune_writers,
    writer_ids,
)


def test_the_corpus_is_many_writers_and_a_busy_groups_mix():
    writers = writer_ids()
    assert len(writers) >= 16 and len([w for w in writers if w in HELDOUT_WRITERS]) >= 5
    assert set(HELDOUT_WRITERS) <= set(writers)
    lines = lines_of(writers)
    assert len(lines) >= 2000
    for writer in writers:
        items = load(WRITERS / f"{writer}.jsonl")
        kinds = Counter(i["kind"] for i in items)
        quiet = writer in QUIET_WEEK  # an ordinary week with no notice: more reports, fewer traps
        assert kinds["report"] / len(items) <= (0.5 if quiet else 0.35), writer
        assert sum(1 for i in items if i.get("hard")) / len(items) >= (1 / 6 if quiet else 1 / 3), writer
        assert {i["writer"] for i in items} == {writer}
        assert len({i["text"] for i in items}) == len(items), f"{writer} wrote a line twice"
    # different writers may write the same short everyday line ("收到", "1", "👌"), never the same long one (a red packet greeting is 16 characters)
    seen: dict[str, str] = {}
    for item in lines:
        first = seen.setdefault(item["text"], item["writer"])
        assert first == item["writer"] or len(item["text"]) <= 16, item["text"]


@pytest.mark.parametrize("writer", writer_ids())
def test_every_line_follows_the_labelling_rules(writer):
    for item in load(WRITERS / f"{writer}.jsonl"):
        assert item["kind"] in ("report", "ack", "query", "chat"), item
        if item["kind"] == "report":
            assert item["urgency"] in ("urgent", "normal", "low") and item["category"], item
            if item["category"] == "inquiry":
                assert item["urgency"] == "low", item["text"]
        else:
            assert item["category"] is None and item["urgency"] is None, item
            assert all(v is None for v in item["location"].values()), item
        for name in ("building", "unit", "room"):
            value = item["location"][name]
            # digits; a tower named by a letter (B座2503, as many new high-rises are) keeps its letter
            assert value is None or value.isdigit() or (name == "building" and value.isascii()
                                                        and value.isalpha() and len(value) == 1), item


def test_held_out_misses_are_never_shown():
    with pytest.raises(PermissionError):
        misses(HELDOUT_WRITERS[0])
    assert isinstance(misses(tune_writers()[0]), list)


ISSUE_FLOORS = {"kind": 0.92, "ticket_precision": 0.95, "false_tickets_per_100": 2, "lost": 0.03, "category": 0.88,
                "urgent_recall": 0.97, "location": 0.90}
# what each held-out set reached (guarded where a floor was not met yet)
REACHED = {
    # both held-out sets at the end of the fifth round (2026-12-01) meet every floor: first (w03…) kind 0.937,
    # precision 0.995, 0.2 per 100, lost 0.028, category 0.927, urgent recall 0.985, location 0.973; fresh (w32-w37;
    # before any tuning 0.933 / 0.984 / 0.8 / 0.030 / 0.909 / 0.920 / 0.964) 0.947 / 0.988 / 0.6 / 0.026 / 0.936 /
    # 0.982 / 0.964. The guard below is the issue's floors.
    "first": dict(ISSUE_FLOORS),
    "fresh": dict(ISSUE_FLOORS),
}


@pytest.mark.parametrize("held_out", ["first", "fresh"])
def test_floors_on_the_held_out_writers(held_out):
    s = score(lines_of(FIRST_HELDOUT if held_out == "first" else FRESH_HELDOUT))
    print(json.dumps(s.row()))
    reached = REACHED[held_out]
    guard = {k: (max if k in ("lost", "false_tickets_per_100") else min)(ISSUE_FLOORS[k], reached[k])
             for k in ISSUE_FLOORS}
    assert s.kind_accuracy >= guard["kind"]
    assert s.ticket_precision >= guard["ticket_precision"]
    assert s.false_tickets_per_100 <= guard["false_tickets_per_100"]
    assert s.lost_share <= guard["lost"]
    assert s.category_accuracy >= guard["category"]
    assert s.urgent_recall >= guard["urgent_recall"]
    assert s.location_exact >= guard["location"]


def test_the_plain_report_writers_held_out():
    """PLAIN_HELDOUT (tests/parsing/writers.py), scored once with the shipped model (2026-12-01, fifth session): kind
    0.927, precision 0.981, 0.8 per 100, lost 0.060, category 0.875, urgent recall 0.963, location 0.976. Two floors
    are not met there — reports lost (≤ 0.03) and urgent recall (≥ 0.97): plain reports are the parser's weak spot.
    Guarded where they stand, so that they can only get better (aggregates only)."""
    s = score(lines_of(PLAIN_HELDOUT))
    print(json.dumps(s.row()))
    assert s.kind_accuracy >= 0.92 and s.ticket_precision >= 0.95 and s.false_tickets_per_100 <= 2
    assert s.lost_share <= 0.06 and s.urgent_recall >= 0.96 and s.category_accuracy >= 0.87


def test_the_quiet_week_writers_are_one_more_group():
    """Scored, not trained on (tests/parsing/writers.py). Reached at the start (2026-12-01, fifth session): kind 0.933,
    precision 1.0, 0.0 per 100, lost 0.064, category 0.857, urgent recall 0.978 — the same in a group with no notice.
    The lost share is over the floor (0.03): guarded where it stands, so that it can only get better."""
    from bot.domain.parsing import ParseContext

    items = lines_of(QUIET_WEEK)
    for context in (None, ParseContext(notice_pending=False)):
        s = score(items) if context is None else score(items, context=lambda _: context)
        print(json.dumps(s.row()))
        assert s.ticket_precision >= 0.95 and s.false_tickets_per_100 <= 2 and s.urgent_recall >= 0.97
        assert s.lost_share <= 0.065 and s.category_accuracy >= 0.85


def test_the_old_corpus_is_one_more_writer_group():
    s = score(old_corpus(), context=old_context)
    print(json.dumps(s.row()))
    assert s.ticket_precision >= 0.95 and s.false_tickets_per_100 <= 2 and s.urgent_recall >= 0.97


@pytest.mark.slow
def test_the_shipped_model_is_what_the_script_builds():
    """model.npz is rebuilt from the corpus by scripts/train_parser.py (deterministic)."""
    import numpy as np

    from bot.domain.parsing.model import Model
    from scripts.train_parser import examples, fit

    model, _ = fit(examples())
    shipped = Model.load()
    assert shipped is not None and shipped.vocab == model.vocab
    assert np.allclose(shipped.weights, model.weights, atol=2e-3)
    assert np.allclose(shipped.bias, model.bias, atol=2e-3)
