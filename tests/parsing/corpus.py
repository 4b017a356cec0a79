"""Scoring the parser against the labelled corpus (tests/data/*.jsonl)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.parsing import Lexicon, ParseContext, parse

DATA = Path(__file__).resolve().parent.parent / "data"
TUNE = DATA / "messages.jsonl"
HELDOUT = DATA / "messages_heldout.jsonl"
FIELDS = ("building", "unit", "room", "place")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Scores:
    n: int = 0
    kind_ok: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    reports: int = 0
    category_ok: int = 0
    urgent: int = 0
    urgent_found: int = 0
    location_fields: int = 0
    location_ok: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def kind_accuracy(self) -> float:
        return self.kind_ok / self.n

    @property
    def report_f1(self) -> float:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    @property
    def category_accuracy(self) -> float:
        return self.category_ok / self.reports

    @property
    def urgent_recall(self) -> float:
        return self.urgent_found / self.urgent

    @property
    def location_exact(self) -> float:
        return self.location_ok / self.location_fields

    def summary(self) -> str:
        return (f"n={self.n} kind={self.kind_accuracy:.3f} report-F1={self.report_f1:.3f} "
                f"category={self.category_accuracy:.3f} urgent-recall={self.urgent_recall:.3f} "
                f"({self.urgent_found}/{self.urgent}) location={self.location_exact:.3f}")


def score(items: list[dict], lexicon: Lexicon | None = None) -> Scores:
    """Kind accuracy; report-vs-rest F1; category accuracy and urgent recall on labelled reports;
    location fields exact on labelled reports (each of the four fields, null included, must match)."""
    s = Scores()
    for item in items:
        context = ParseContext(**item.get("context", {}))
        result = parse(item["text"], context, lexicon)
        s.n += 1
        gold, got = item["kind"], result.kind
        s.kind_ok += gold == got
        if gold == "report" and got == "report":
            s.tp += 1
        elif got == "report":
            s.fp += 1
        elif gold == "report":
            s.fn += 1
        if gold != got:
            s.misses.append(f"kind {gold}→{got}: {item['text']}")
        if gold != "report":
            continue
        s.reports += 1
        s.category_ok += result.category == item["category"]
        if result.category != item["category"]:
            s.misses.append(f"category {item['category']}→{result.category}: {item['text']}")
        if item["urgency"] == "urgent":
            s.urgent += 1
            s.urgent_found += result.urgency == "urgent"
            if result.urgency != "urgent":
                s.misses.append(f"urgent missed ({result.urgency}): {item['text']}")
        got_loc = result.location.to_dict()
        for name in FIELDS:
            s.location_fields += 1
            s.location_ok += got_loc[name] == item["location"][name]
            if got_loc[name] != item["location"][name]:
                s.misses.append(f"{name} {item['location'][name]}→{got_loc[name]}: {item['text']}")
    return s


if __name__ == "__main__":
    import sys

    for path in (TUNE, HELDOUT):
        result = score(load(path))
        print(path.name, result.summary())
        if "-v" in sys.argv:
            for miss in result.misses:
                print("   ", miss)
