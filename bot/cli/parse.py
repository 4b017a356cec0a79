"""`gridbot parse`: JSON Lines in (each with "text"), one JSON object out per line, in order."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse", help="classify messages: JSON Lines with \"text\" on stdin → kind, category, urgency, location")
    parser.add_argument("--config", "-c", help="config.yaml whose lexicon: section adds the community's own words")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.domain.parsing import Lexicon, ParseContext, parse

    lexicon = Lexicon.default()
    if args.config:
        from bot.cli._common import load_or_report

        config = load_or_report(args.config)
        if config is None:
            return 1
        lexicon = Lexicon.from_mapping(config.lexicon)
    out = sys.stdout
    encode = json.JSONEncoder(ensure_ascii=False).encode
    loads = json.loads
    pending_lines: list[str] = []
    write = pending_lines.append
    contexts: dict[bool, ParseContext] = {False: ParseContext(), True: ParseContext(notice_pending=True)}
    for number, raw in enumerate(sys.stdin.buffer, 1):
        if len(pending_lines) >= 2048:  # write in blocks: one call per line costs more than parsing
            out.write("".join(pending_lines))
            pending_lines.clear()
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            write(json.dumps({"error": f"line {number}: not UTF-8 ({exc.reason})"}, ensure_ascii=False) + "\n")
            continue
        if not line.strip():
            write(json.dumps({"error": f"line {number}: empty line"}) + "\n")
            continue
        try:
            item = loads(line)
        except json.JSONDecodeError as exc:
            write(json.dumps({"error": f"line {number}: not valid JSON ({exc.msg})"}, ensure_ascii=False) + "\n")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            write(json.dumps({"error": f"line {number}: expected an object with a \"text\" string"}) + "\n")
            continue
        context = item.get("context")
        pending = bool(context.get("notice_pending")) if isinstance(context, dict) else False
        result = parse(item["text"], contexts[pending], lexicon).to_dict()
        item.update(result)
        write(encode(item) + "\n")
    out.write("".join(pending_lines))
    out.flush()
    return 0
