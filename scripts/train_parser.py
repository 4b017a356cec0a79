"""Rebuild bot/domain/parsing/model.npz from the labelled corpora — the only script that needs scikit-learn.

    .venv/bin/python -m scripts.train_parser            # cross-validate by writer, then train and write the file
    .venv/bin/python -m scripts.train_parser --cv-only  # only the cross-validation figures

Training data: the tune writers of tests/data/writers/ (never the held-out ones, tests/parsing/writers.py) and the
tune split of the old corpus (tests/data/messages.jsonl). The old corpus was written by the hands that wrote the
rules, which read it perfectly: its lines train the character n-grams but not the weights given to the rules'
verdict (their rule features are left out), so the models learn how far to trust the rules from strangers only.

Deterministic: the same files give the same model (lbfgs, no random state involved).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from scipy.sparse import csr_matrix

from bot.domain.parsing import CATEGORIES, Lexicon, ParseContext
from bot.domain.parsing.model import KINDS, MODEL_FILE, Model, features, text_features
from bot.domain.parsing.parser import CONVENTION, Thresholds, parse, prepare_text, rules
from tests.parsing.writers import DATA, HELDOUT_WRITERS, context_of, load, score, tune_writers, WRITERS

C_KIND, C_CATEGORY, C_URGENT = 1.0, 2.0, 0.5
MIN_COUNT = 2


def examples() -> list[dict]:
    rows = []
    lexicon = Lexicon.default()
    for writer in tune_writers():
        assert writer not in HELDOUT_WRITERS
        for item in load(WRITERS / f"{writer}.jsonl"):
            rows.append({**item, "group": writer, "ctx": context_of(item)})
    for item in load(DATA / "messages.jsonl"):
        rows.append({**item, "group": "old", "ctx": ParseContext(**item.get("context", {}))})
    kept = []
    for row in rows:
        text = prepare_text(row["text"], lexicon)
        rule = rules(text, CONVENTION, lexicon)  # the model reads every message as the labelling does (parser.parse)
        if not row["ctx"].notice_pending and rules(text, row["ctx"], lexicon).kind != rule.kind:
            continue  # labelled for a group with no notice, where its reading depends on that (a bare "好的": chat)
        row["prepared"], row["rule"] = text, rule
        feats = features(text, rule)
        if row["group"] == "old":
            feats = [f for f in feats if not f.startswith("R:")]
        row["features"] = feats
        kept.append(row)
    return kept


def vocabulary(rows: list[dict]) -> list[str]:
    counts = Counter(f for row in rows for f in set(row["features"]))
    return sorted(f for f, n in counts.items() if n >= MIN_COUNT)


def matrix(rows: list[dict], index: dict[str, int]) -> csr_matrix:
    data, cols, ptr = [], [], [0]
    for row in rows:
        ids = sorted({index[f] for f in row["features"] if f in index})
        cols.extend(ids)
        data.extend([1.0] * len(ids))
        ptr.append(len(cols))
    return csr_matrix((data, cols, ptr), shape=(len(rows), len(index)))


def fit(rows: list[dict]) -> Model:
    vocab = vocabulary(rows)
    index = {f: i for i, f in enumerate(vocab)}
    x = matrix(rows, index)
    kinds = list(KINDS)
    kind_model = LogisticRegression(C=C_KIND, max_iter=3000)
    kind_model.fit(x, [kinds.index(r["kind"]) for r in rows])
    reports = [i for i, r in enumerate(rows) if r["kind"] == "report"]
    cats = [c for c in CATEGORIES]
    cat_model = LogisticRegression(C=C_CATEGORY, max_iter=3000)
    cat_model.fit(x[reports], [cats.index(rows[i]["category"]) for i in reports])
    urg_model = LogisticRegression(C=C_URGENT, max_iter=3000)
    urg_model.fit(x[reports], [int(rows[i]["urgency"] == "urgent") for i in reports])
    weights = np.zeros((len(vocab), len(kinds) + len(cats) + 1), dtype=np.float32)
    bias = np.zeros(len(kinds) + len(cats) + 1, dtype=np.float32)
    weights[:, :len(kinds)] = kind_model.coef_.T
    bias[:len(kinds)] = kind_model.intercept_
    present = list(cat_model.classes_)
    for j, cls in enumerate(present):
        weights[:, len(kinds) + cls] = cat_model.coef_[j]
        bias[len(kinds) + cls] = cat_model.intercept_[j]
    for cls in range(len(cats)):
        if cls not in present:
            bias[len(kinds) + cls] = -20.0
    weights[:, -1] = urg_model.coef_[0]
    bias[-1] = urg_model.intercept_[0]
    return Model(index, weights.astype(np.float64), bias.astype(np.float64), tuple(kinds), tuple(cats)), (
        vocab, weights, bias)


def save(parts: tuple, path: Path = MODEL_FILE) -> None:
    vocab, weights, bias = parts
    np.savez_compressed(path, vocab=np.array("\n".join(vocab)), weights=np.round(weights, 4).astype(np.float32),
                        bias=bias.astype(np.float32), kinds=np.array("\n".join(KINDS)),
                        categories=np.array("\n".join(CATEGORIES)))


def cross_validate(rows: list[dict], thresholds: Thresholds, *, show_misses: bool = False) -> dict:
    """Leave one tune writer out: train on the rest (and the old corpus), score the writer left out."""
    lexicon = Lexicon.default()
    table = {}
    totals = []
    for writer in tune_writers():
        train = [r for r in rows if r["group"] != writer]
        test = [r for r in rows if r["group"] == writer]
        model, _ = fit(train)
        by_text = {r["text"]: r for r in test}

        def run(text: str, ctx: ParseContext) -> object:
            return parse(text, ctx, lexicon, thresholds, model)

        s = score(test, run, keep_misses=show_misses)
        for miss in s.misses:
            print(writer, miss, file=sys.stderr)
        table[writer] = s.row()
        totals.append(s)
        del by_text
    agg = {k: round(sum(t.row()[k] * t.n for t in totals) / sum(t.n for t in totals), 3)
           for k in ("kind", "ticket_precision", "false_tickets_per_100", "lost", "category", "urgent_recall",
                     "location")}
    table["mean (by line)"] = agg
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv-only", action="store_true")
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--misses", action="store_true", help="print the tune writers' out-of-fold misses")
    args = parser.parse_args(argv)
    rows = examples()
    print(f"{len(rows)} lines from {len({r['group'] for r in rows})} groups", file=sys.stderr)
    if not args.no_cv:
        for name, row in cross_validate(rows, Thresholds(), show_misses=args.misses).items():
            print(f"{name:16s} {json.dumps(row)}")
    if args.cv_only:
        return 0
    _, parts = fit(rows)
    save(parts)
    print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size} bytes, {len(parts[0])} features)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
