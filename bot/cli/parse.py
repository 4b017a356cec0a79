"""`gridbot parse`: JSON Lines in (each with "text"), one JSON object out per line, in order.

Each input object comes back with its own keys unchanged plus `kind`, `category`, `urgency`, `location`,
`explanation`, `confidence`, `me_too` and `ticket_ref` (see bot.domain.parsing.ParseResult.to_dict). A line is read
as docs/labelling.md labels one: as if a notice had been sent to its group lately; `"context": {"notice_pending":
false}` reads it for a group where nothing awaits replies (the only difference: a bare "好的" or 👌 there is chat,
with nothing to acknowledge; every other reading is the same).
A line that is not UTF-8, not JSON, not an object with a "text" string, or blank yields `{"error": "line N:
..."}` in its place, so output line N always answers input line N; parsing goes on. So does a line
with an integer longer than Python reads (4,300 digits), one nested too deeply, and a line on which anything
else fails: no exception ends the stream or loses the other answers of its block.

Output is strict JSON. NaN, Infinity and -Infinity are not JSON, and a number beyond float range (1e400)
would come back as Infinity, so such a line is refused with an error rather than changed (no silent null).
U+2028 and U+2029 are written as \\u2028 and \\u2029 (JavaScript once read them as line ends); other
non-ASCII text is written as UTF-8. A UTF-8 byte order mark at the start of a line (or the stream) is ignored.

Input is read in blocks of whatever is ready and each block's answers are written and flushed together.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import BinaryIO


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
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    contexts = {False: ParseContext(), True: ParseContext(notice_pending=True)}

    def answer(number: int, raw: bytes) -> str:
        raw = raw.removesuffix(b"\r").removeprefix(b"\xef\xbb\xbf")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return encode({"error": f"line {number}: not UTF-8 ({exc.reason} at byte {exc.start})"})
        if not line.strip():
            return encode({"error": f"line {number}: empty line"})
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as exc:  # ValueError: JSONDecodeError, or an int over 4,300 digits
            if isinstance(exc, json.JSONDecodeError):
                reason = exc.msg
            elif isinstance(exc, RecursionError):
                reason = "nested too deeply"
            else:
                reason = str(exc).partition(":")[0]  # "Exceeds the limit (4300 digits) for integer string conversion"
            return encode({"error": f"line {number}: not valid JSON ({reason})"})
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return encode({"error": f"line {number}: expected an object with a \"text\" string"})
        context = item.get("context")
        pending = bool(context.get("notice_pending", True)) if isinstance(context, dict) else True
        item.update(parse(item["text"], contexts[pending], lexicon).to_dict())
        try:
            return encode(item)
        except ValueError:  # allow_nan=False: NaN, Infinity, or a float beyond range such as 1e400
            return encode({"error": f"line {number}: NaN, Infinity or a number beyond float range has no strict JSON"})

    def failed(number: int, exc: Exception) -> str:
        return encode({"error": f"line {number}: could not be answered ({type(exc).__name__})"})

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
            try:
                answers.append(answer(number, raw))
            except Exception as exc:  # noqa: BLE001 - that line's answer, not the end of the stream
                answers.append(failed(number, exc))
        if answers:
            write(out, answers)
    if partial:  # a last line without its newline
        number += 1
        try:
            last = answer(number, partial)
        except Exception as exc:  # noqa: BLE001 - that line's answer, not the end of the stream
            last = failed(number, exc)
        write(out, [last])
    out.flush()
    return 0


def write(out: BinaryIO, answers: list[str]) -> None:
    """One block of answers, flushed. U+2028 and U+2029 can only be inside JSON strings, so escaping them in the
    block keeps it valid JSON; a lone surrogate ("\\ud800" in the input) is written back as that escape."""
    block = "\n".join(answers).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
    out.write(block.encode("utf-8", "backslashreplace"))
    out.flush()
