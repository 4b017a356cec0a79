"""Scoring `parse()` by writer: the corpus in tests/data/writers/, one file per independent writer.

Whole writers are held out (HELDOUT_WRITERS, drawn at random before any of them was written: random.Random(20261201)
.sample of w01..w17, six of them). Their lines are never tuned on and their misses are never printed: `misses()`
refuses a held-out writer. The old corpus (tests/data/messages*.jsonl, written by the developers) is one more group.

The figures are the issue's: kind accuracy; report precision among `ticket: true`; non-reports answered with a
ticket per 100 non-reports; reports lost (neither a ticket nor a review); category accuracy and location fields on
labelled reports; urgent recall (a ticket marked urgent, or a review marked urgent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.parsing import ParseContext, parse

DATA = Path(__file__).resolve().parent.parent / "data"
WRITERS = DATA / "writers"
FIRST_HELDOUT = ("w03", "w04", "w05", "w08", "w14", "w15")  # scored at the end of two tuning rounds (no longer fresh)
# w26-w31 were commissioned after those two rounds and held out for the third (scored before and after it); they
# are tune writers since the fourth round. Six more writers, commissioned on 2026-12-01 for the fourth round the same
# way (only docs/labelling.md and a persona), are held out from the start: scored once before any tuning, once at the end
FRESH_HELDOUT = ("w32", "w33", "w34", "w35", "w36", "w37")
# Four more (w56-w59, 2026-12-01, fifth session): a busy week's mix whose reports are told plainly (the brief asked for
# ordinary, mostly short reports without alarm words). Commissioned as tune writers; training on them left the tune
# writers' cross-validation as it was but cost the first held-out set an urgent report (0.971 → 0.956, under the floor),
# so that model was not shipped, and the four became held out for the shipped one: scored once with it, never trained
# on in a shipped model, misses never read.
PLAIN_HELDOUT = ("w56", "w57", "w58", "w59")
HELDOUT_WRITERS = FIRST_HELDOUT + FRESH_HELDOUT + PLAIN_HELDOUT
# Writers of an ordinary quiet week (no notice sent lately; commissioned 2026-12-01, fifth session): their groups report
# more and have fewer hard cases than the busy weeks the others wrote (about 47 % reports). Scored as a group of their
# own and not trained on: as tune writers they cost the other writers precision in cross-validation (ticket precision
# 0.981 → 0.974, non-reports ticketed 0.88 → 1.24 per 100; weighted 0.4: 0.977 / 1.08). Their misses have been read,
# so they are no held-out set either.
QUIET_WEEK = ("w52", "w53", "w54", "w55")
FIELDS = ("building", "unit", "room", "place")


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def writer_ids() -> list[str]:
    return sorted(p.stem for p in WRITERS.glob("w*.jsonl"))


def lines_of(writers: Iterable[str]) -> list[dict[str, Any]]:
    return [item for w in writers for item in load(WRITERS / f"{w}.jsonl")]


def tune_writers() -> list[str]:
    return [w for w in writer_ids() if w not in HELDOUT_WRITERS and w not in QUIET_WEEK]


def context_of(item: dict[str, Any]) -> ParseContext:
    """Writers label as if a notice was sent to the group in the last few days (docs/labelling.md)."""
    ctx = {"notice_pending": True, **item.get("context", {})}
    return ParseContext(notice_pending=bool(ctx["notice_pending"]))


@dataclass
class WriterScores:
    n: int = 0
    kind_ok: int = 0
    tickets: int = 0
    tickets_right: int = 0
    non_reports: int = 0
    non_reports_ticketed: int = 0
    reports: int = 0
    reports_lost: int = 0
    category_ok: int = 0
    urgent: int = 0
    urgent_found: int = 0
    location_fields: int = 0
    location_ok: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def kind_accuracy(self) -> float:
        return self.kind_ok / self.n if self.n else 0.0

    @property
    def ticket_precision(self) -> float:
        return self.tickets_right / self.tickets if self.tickets else 1.0

    @property
    def false_tickets_per_100(self) -> float:
        return 100 * self.non_reports_ticketed / self.non_reports if self.non_reports else 0.0

    @property
    def lost_share(self) -> float:
        return self.reports_lost / self.reports if self.reports else 0.0

    @property
    def category_accuracy(self) -> float:
        return self.category_ok / self.reports if self.reports else 0.0

    @property
    def urgent_recall(self) -> float:
        return self.urgent_found / self.urgent if self.urgent else 1.0

    @property
    def location_exact(self) -> float:
        return self.location_ok / self.location_fields if self.location_fields else 0.0

    def row(self) -> dict[str, float]:
        return {"n": self.n, "kind": round(self.kind_accuracy, 3), "ticket_precision": round(self.ticket_precision, 3),
                "false_tickets_per_100": round(self.false_tickets_per_100, 1), "lost": round(self.lost_share, 3),
                "category": round(self.category_accuracy, 3), "urgent_recall": round(self.urgent_recall, 3),
                "location": round(self.location_exact, 3)}

    def summary(self) -> str:
        r = self.row()
        return (f"n={r['n']} kind={r['kind']:.3f} ticket-precision={r['ticket_precision']:.3f} "
                f"false-tickets/100={r['false_tickets_per_100']:.1f} lost={r['lost']:.3f} "
                f"category={r['category']:.3f} urgent-recall={r['urgent_recall']:.3f} ({self.urgent_found}/{self.urgent}) "
                f"location={r['location']:.3f}")


Decide = Callable[[str, ParseContext], Any]


def field_matches(name: str, gold: str | None, got: str | None) -> bool:
    """Exact, except places, which match leniently: either contains the other (docs/labelling.md)."""
    if name == "place" and gold and got:
        return gold in got or got in gold
    return gold == got


def _parse(text: str, ctx: ParseContext) -> Any:
    return parse(text, ctx)


def score(items: list[dict[str, Any]], decide: Decide = _parse, *, keep_misses: bool = False,
          context: Callable[[dict[str, Any]], ParseContext] = context_of) -> WriterScores:
    s = WriterScores()
    for item in items:
        result = decide(item["text"], context(item))
        gold, got = item["kind"], result.kind
        ticket = bool(getattr(result, "ticket", got == "report"))
        review = got == "report" and not ticket
        s.n += 1
        s.kind_ok += gold == got
        if keep_misses and gold != got:
            s.misses.append(f"kind {gold}→{got}{' (ticket)' if ticket else ''}: {item['text']}")
        if ticket:
            s.tickets += 1
            s.tickets_right += gold == "report"
        if gold != "report":
            s.non_reports += 1
            s.non_reports_ticketed += ticket
            continue
        s.reports += 1
        s.reports_lost += not (ticket or review)
        s.category_ok += result.category == item["category"]
        if keep_misses and result.category != item["category"]:
            s.misses.append(f"category {item['category']}→{result.category}: {item['text']}")
        if item["urgency"] == "urgent":
            s.urgent += 1
            found = (ticket or review) and result.urgency == "urgent"
            s.urgent_found += found
            if keep_misses and not found:
                s.misses.append(f"urgent missed ({got}/{result.urgency}): {item['text']}")
        got_loc = result.location.to_dict()
        for name in FIELDS:
            ok = field_matches(name, item["location"][name], got_loc[name])
            s.location_fields += 1
            s.location_ok += ok
            if keep_misses and not ok:
                s.misses.append(f"{name} {item['location'][name]}→{got_loc[name]}: {item['text']}")
    return s


def misses(writer: str, decide: Decide = _parse) -> list[str]:
    """The misses of one tune writer, for tuning. Held-out writers' misses are never shown."""
    if writer in HELDOUT_WRITERS:
        raise PermissionError(f"{writer} is held out: its misses are never read")
    return score(load(WRITERS / f"{writer}.jsonl"), decide, keep_misses=True).misses


def old_corpus() -> list[dict[str, Any]]:
    return load(DATA / "messages.jsonl") + load(DATA / "messages_heldout.jsonl")


def old_context(item: dict[str, Any]) -> ParseContext:
    return ParseContext(**item.get("context", {}))


def report(decide: Decide = _parse) -> dict[str, dict[str, float]]:
    """Figures per writer, for the held-out writers together, the tune writers together, and the old corpus."""
    table = {w: score(load(WRITERS / f"{w}.jsonl"), decide).row() for w in writer_ids()}
    table["held-out writers"] = score(lines_of(w for w in writer_ids() if w in HELDOUT_WRITERS), decide).row()
    table["first held-out"] = score(lines_of(FIRST_HELDOUT), decide).row()
    table["fresh held-out"] = score(lines_of(FRESH_HELDOUT), decide).row()
    table["tune writers"] = score(lines_of(tune_writers()), decide).row()
    table["old corpus"] = score(old_corpus(), decide, context=old_context).row()
    return table


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "misses":
        print("\n".join(misses(sys.argv[2])))
    else:
        for name, row in report().items():
            print(f"{name:18s}", json.dumps(row))
