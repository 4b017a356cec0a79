"""The group's state changes one reading only: whether an acknowledgement has anything to acknowledge.

The parser reads every message as docs/labelling.md labels it (as if a notice had been sent to the group lately); in
a group where no notice awaits replies, what would be an acknowledgement the rules do not call one there (a bare
"好的", 👌) is chat. Everything else — report or not, ticket or review, category, urgency, place — is the same
with and without a notice, so a resident is not answered differently in the week after every notice.
"""

from __future__ import annotations

import json

from bot.domain.parsing import ParseContext, parse
from tests.parsing.writers import DATA, FIRST_HELDOUT, FRESH_HELDOUT, lines_of, score

PENDING, QUIET = ParseContext(notice_pending=True), ParseContext(notice_pending=False)


def reading(result) -> tuple:
    return (result.kind, result.category, result.urgency, result.location, result.ticket, result.review,
            result.me_too, result.ticket_ref)


def test_every_corpus_line_reads_the_same_with_and_without_a_notice():
    files = [DATA / "messages.jsonl", DATA / "messages_heldout.jsonl", *sorted((DATA / "writers").glob("*.jsonl"))]
    lines = [(f"{path.name}:{i}", json.loads(line)["text"])
             for path in files for i, line in enumerate(path.read_text("utf-8").splitlines()) if line.strip()]
    assert len(lines) > 7000
    differ = []
    for key, text in lines:
        pending, quiet = parse(text, PENDING), parse(text, QUIET)
        if pending.kind == "ack" and quiet.kind == "chat":  # nothing to acknowledge: chat, and nothing more
            same = not (quiet.ticket or quiet.review or quiet.category or quiet.urgency)
        else:
            same = reading(pending) == reading(quiet)
        if not same:
            differ.append(key)  # the line's place only: held-out writers' texts are never printed
    assert differ == []


def test_a_bare_reply_acknowledges_only_a_notice():
    for text in ("好的", "👌", "ok"):
        assert parse(text, PENDING).kind == "ack"
        assert parse(text, QUIET).kind == "chat"
    assert parse("收到", QUIET).kind == "ack"  # 收到 says what it is, notice or not


def test_held_out_writers_in_a_quiet_group_keep_every_floor_but_the_acks():
    """In a group with no notice, the held-out writers' non-acknowledgements fare as with one: no more tickets on
    chat, no report lost (aggregates only)."""
    for writers in (FIRST_HELDOUT, FRESH_HELDOUT):
        items = lines_of(writers)
        quiet, pending = score(items, context=lambda _: QUIET), score(items)
        assert quiet.false_tickets_per_100 == pending.false_tickets_per_100 <= 2
        assert quiet.ticket_precision == pending.ticket_precision >= 0.95
        assert quiet.lost_share == pending.lost_share <= 0.03
        assert quiet.urgent_recall == pending.urgent_recall >= 0.97
        assert quiet.category_accuracy == pending.category_accuracy
