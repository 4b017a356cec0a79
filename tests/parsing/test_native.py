"""The model's C path (bot/domain/parsing/_grams.c) answers as its numpy path, to the bit, so it cannot drift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.parsing import Lexicon, ParseContext
from bot.domain.parsing.model import Model, _heaviest, _in_turn
from bot.domain.parsing.parser import prepare_text, rules

DATA = Path(__file__).resolve().parent.parent / "data"
NATIVE = Model.load(native=True)
NUMPY = Model.load(native=False)


def corpus() -> list[tuple[str, str]]:
    files = [DATA / "messages.jsonl", DATA / "messages_heldout.jsonl", *sorted((DATA / "writers").glob("*.jsonl"))]
    return [(f"{path.name}:{i}", json.loads(line)["text"])
            for path in files for i, line in enumerate(path.read_text("utf-8").splitlines()) if line.strip()]


def answers(model: Model, text: str, pending: bool) -> tuple:
    lexicon = Lexicon.default()
    prepared = prepare_text(text, lexicon)
    rule = rules(prepared, ParseContext(notice_pending=pending), lexicon)  # the rules' reading either way
    out = []
    for raw in (prepared, text):  # the parser's prepared text, and any str (NUL, surrogates, the last plane)
        p = model.predict_message(raw, rule)
        out.append((model._rows(raw, [None, 7, 7, None, 3]), p.kind, p.category, p.urgent, p.reasons))
    return tuple(out)


def test_the_extension_is_built_and_used():
    """`pip install -e .` builds it where a C compiler is at hand (as here and in CI): a failed build is noticed."""
    from bot.domain.parsing import _grams  # noqa: F401

    assert NATIVE.native and not NUMPY.native
    assert not Model(NUMPY.vocab, NUMPY.weights.astype(np.float64), NUMPY.bias, NUMPY.kinds, NUMPY.categories).native


def test_the_corpus_is_answered_alike():
    lines = corpus()
    assert len(lines) > 6000
    # only line numbers are reported, never a text or a result (held-out writers' lines stay unprinted)
    differ = [key for key, text in lines for pending in (False, True)
              if answers(NATIVE, text, pending) != answers(NUMPY, text, pending)]
    assert differ == []


gram_text = st.lists(st.sampled_from(["\x00", "\x01", "^", "$", " ", "  \t", "\u3000", "\x1c", "\x85", "7", "٣", "𝟗",
                                      "水", "漏", "楼", "上", "🔥", "\U0010ffff", "\ud800", "\udfff", "收到", "的事大家"])
                     | st.characters(codec=None), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(gram_text | st.text(max_size=400), st.booleans())
def test_any_text_is_answered_alike(text, pending):
    assert answers(NATIVE, text, pending) == answers(NUMPY, text, pending)


def test_only_the_first_300_characters_count():
    text = "楼道灯坏了" * 200_000
    assert NATIVE._rows(text, []) == NUMPY._rows(text, []) == NATIVE._rows(text[:300], [])
    assert NATIVE._rows(" 1 \t2\n\n", []) == NATIVE._rows("0 0", [])  # digits to 0, spaces folded and stripped


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.data())
def test_sums_and_heaviest_rows_alike(n, k, data):
    """Row sums in float32 in the order given, and the heaviest rows with ties kept in that order."""
    from bot.domain.parsing import _grams

    weights = np.array(data.draw(st.lists(st.lists(st.sampled_from([-1.5, 0.0, 0.25, 0.3, 0.30001, 0.5, 0.7, 2.0,
                                                                     1e-7]), min_size=k, max_size=k),
                                          min_size=n + 1, max_size=n + 1)), dtype=np.float32)
    rows = data.draw(st.lists(st.integers(0, n - 1), unique=True))
    column = data.draw(st.integers(0, k - 1))
    want = weights[-1].copy() if not rows else weights[rows[0]].copy()
    for row in rows[1:] + [n] * bool(rows):
        want += weights[row]  # one after the other, in float32
    linear = _grams.Weights(weights)
    assert linear.sum(rows) == _in_turn(weights[[*rows, n]]) == want.tolist()
    assert linear.heaviest(rows, column, 6, 0.3) == _heaviest(weights[rows, column], rows)


def test_bad_arguments_raise_and_never_crash():
    from bot.domain.parsing import _grams

    table = _grams.GramTable([1, 2 << 21 | 3], [0, 1], 2)
    assert table.rows("\x00", [1, None, 0]) == [0, 1]  # "^" "\x00" "$": only the NUL (key 1) is known
    for extra, error in (([2], IndexError), ([-1], IndexError), ([1.0], TypeError), ([2**80], OverflowError),
                         (None, TypeError)):
        with pytest.raises(error):
            table.rows("x", extra)
    with pytest.raises(TypeError):
        table.rows(b"x", [])
    with pytest.raises(TypeError):
        table.rows("x")
    with pytest.raises(IndexError):
        _grams.GramTable([1], [2], 2)
    with pytest.raises(ValueError):
        _grams.GramTable([0], [0], 2)
    with pytest.raises(ValueError):
        _grams.GramTable([1, 2], [0], 2)
    for matrix in (np.zeros((3, 2)), np.zeros(3, np.float32), np.zeros((3, 4), np.float32)[:, ::2],
                   np.zeros((0, 2), np.float32), b"abc"):
        with pytest.raises((TypeError, ValueError, BufferError)):
            _grams.Weights(matrix)
    linear = _grams.Weights(np.ones((3, 2), np.float32))
    assert linear.sum([]) == [1.0, 1.0] and linear.sum([0, 1]) == [3.0, 3.0]
    for rows in ([2], [-1], ["0"]):  # the bias row is not a feature's
        with pytest.raises((IndexError, TypeError)):
            linear.sum(rows)
        with pytest.raises((IndexError, TypeError)):
            linear.heaviest(rows, 0, 6, 0.3)
    with pytest.raises(IndexError):
        linear.heaviest([0], 2, 6, 0.3)
    with pytest.raises(ValueError):
        linear.heaviest([0], 0, 1000, 0.3)
    assert linear.heaviest([1, 0], 1, 1, 0.3) == [1] and linear.heaviest([1, 0], 1, 0, 0.3) == []
