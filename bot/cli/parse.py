"""`gridbot parse`: JSON Lines in (each with "text"), one JSON object out per line, in order.

Each input object comes back with its own keys unchanged plus `kind`, `category`, `urgency`, `location`,
`explanation`, `confidence`, `me_too` and `ticket_ref` (see bot.domain.parsing.ParseResult.to_dict). An
optional `"context": {"notice_pending": true}` on a line tells the parser a notice awaits acknowledgement.
A line that is not UTF-8, not JSON, not an object with a "text" string, or blank yields `{"error": "line N:
..."}` in its place, so output line N always answers input line N; parsing goes on. Input is read in
blocks of whatever is ready and each block's answers are written and flushed together.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse", help="classify messages: JSON Lines with \"text\" on stdin → kind, category, urgency, location")
    parser.add_argument("--config", "-c", help="config.yaml whose lexicon: section adds the community's own words")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.domain.parsing import Lexicon, LexiconError, ParseContext, parse

    lexicon = Lexicon.default()
    if args.config:
        from bot.cli._common import load_or_report

        config = load_or_report(args.config)
        if config is None:
            return 1
        try:
            lexicon = Lexicon.from_mapping(config.lexicon)
        except LexiconError as exc:  # the loader validates it; this guards a loader that did not
            print(f"{args.config}: {exc}", file=sys.stderr)
            return 1
    encode = json.JSONEncoder(ensure_ascii=False).encode
    contexts = {False: ParseContext(), True: ParseContext(notice_pending=True)}

    def answer(number: int, raw: bytes) -> str:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return encode({"error": f"line {number}: not UTF-8 ({exc.reason} at byte {exc.start})"})
        if not line.strip():
            return encode({"error": f"line {number}: empty line"})
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            return encode({"error": f"line {number}: not valid JSON ({reason})"})
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return encode({"error": f"line {number}: expected an object with a \"text\" string"})
        context = item.get("context")
        pending = bool(context.get("notice_pending")) if isinstance(context, dict) else False
        item.update(parse(item["text"], contexts[pending], lexicon).to_dict())
        return encode(item)

    # Read whatever stdin has ready and answer it as one batch, flushed: fast on a big file, and a caller
    # that writes one line and waits for its answer gets it at once.
    out = sys.stdout.buffer
    fd = sys.stdin.buffer.fileno()
    number = 0
    partial = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        lines = (partial + chunk).split(b"\n")
        partial = lines.pop()
        answers = []
        for raw in lines:
            number += 1
            answers.append(answer(number, raw.removesuffix(b"\r")))
        if answers:
            # a JSON string may hold a lone surrogate ("\ud800" in the input): written back as that escape
            out.write(("\n".join(answers) + "\n").encode("utf-8", "backslashreplace"))
            out.flush()
    if partial:  # a last line without its newline
        number += 1
        out.write((answer(number, partial.removesuffix(b"\r")) + "\n").encode("utf-8", "backslashreplace"))
    out.flush()
    return 0
