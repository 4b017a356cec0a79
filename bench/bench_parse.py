"""Benchmark: parse() and `gridbot parse` messages per second on one core, beside jieba.lcut on the same texts.

Run: .venv/bin/python bench/bench_parse.py
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import describe  # noqa: E402

TARGET = 300_000


def texts() -> list[str]:
    items = []
    files = [ROOT / "tests" / "data" / name for name in ("messages.jsonl", "messages_heldout.jsonl")]
    files += sorted((ROOT / "tests" / "data" / "writers").glob("w*.jsonl"))  # the writers' corpus too
    for path in files:
        items += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return items


def rate(fn, data: list[str]) -> float:
    start = time.perf_counter()
    for text in data:
        fn(text)
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})  # one core, for this process and the subprocesses it starts
    corpus = texts()
    data = (corpus * (TARGET // len(corpus) + 1))[:TARGET]
    start = time.perf_counter()
    from bot.domain.parsing import Lexicon, parse  # noqa: PLC0415

    Lexicon.from_mapping({"places": ["龙王庙"]})
    startup = time.perf_counter() - start
    parse_rate = rate(parse, data)

    import jieba  # noqa: PLC0415

    jieba.setLogLevel(logging.WARNING)
    start = time.perf_counter()
    jieba.initialize()
    jieba_init = time.perf_counter() - start
    jieba_rate = rate(jieba.lcut, data[:100_000])

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as handle:
        for i, text in enumerate(data[:200_000]):
            handle.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        path = handle.name
    start = time.perf_counter()
    with open(path, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "bot", "parse"], stdin=stdin, stdout=subprocess.PIPE,
                                check=True, cwd=ROOT)
    cli_seconds = time.perf_counter() - start
    cold = []
    for _ in range(5):  # a new interpreter: import, default lexicon, one message
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from bot.domain.parsing import parse; parse('33号楼消防通道堵了')"],
                       check=True, cwd=ROOT)
        cold.append(time.perf_counter() - begin)
    bare = []
    for _ in range(5):
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT)
        bare.append(time.perf_counter() - begin)
    lines = result.stdout.count(b"\n")
    os.unlink(path)
    print(f"machine: {describe()} (pinned to one core)")
    print(f"messages: {len(corpus)} distinct corpus texts, repeated to {len(data):,}")
    print(f"parser import + default lexicon + a community lexicon build: {startup * 1000:.0f} ms")
    print(f"parse(): {parse_rate:,.0f} messages/s")
    print(f"jieba.lcut (segmentation only): {jieba_rate:,.0f} messages/s (dictionary load {jieba_init:.2f} s, not counted)")
    print(f"gridbot parse end to end (process start included): {lines / cli_seconds:,.0f} messages/s "
          f"({lines:,} lines in {cli_seconds:.2f} s)")
    print(f"parse() / jieba.lcut: {parse_rate / jieba_rate:.2f}x; "
          f"gridbot parse / jieba.lcut: {lines / cli_seconds / jieba_rate:.2f}x")
    print(f"cold start, new process to first answer: {min(cold) * 1000:.0f} ms "
          f"(bare interpreter {min(bare) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
