"""Benchmark: load a generated zone of 11,473 groups; time YAML, validation, tree build and lookups.

Run: .venv/bin/python bench/bench_tree.py [--groups N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._machine import describe  # noqa: E402
from bot.cli.gen_config import generate  # noqa: E402
from bot.config import load_config, parse_config  # noqa: E402
from bot.domain.grid import GridTree  # noqa: E402


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=11_473)
    args = parser.parse_args()
    text = generate(args.groups)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zone.yaml"
        path.write_text(text, encoding="utf-8")
        full = best(lambda: load_config(path, cache=False), repeat=1)
        load_config(path)  # fills the cache
        cached = best(lambda: load_config(path))
        config = parse_config(text)
    nodes = list(config.tree)
    build = best(lambda: GridTree(config.tree.tiers, nodes))
    tree = config.tree
    codes = [n.code for n in nodes]
    rng = random.Random(1)
    sample = [rng.choice(codes) for _ in range(100_000)]
    start = time.perf_counter()
    for code in sample:
        tree.ancestors(code)
    anc = (time.perf_counter() - start) / len(sample) * 1e6
    topics = [r.topic for r in tree.rooms()]
    start = time.perf_counter()
    for topic in (rng.choice(topics) for _ in range(100_000)):
        tree.node_for_room(topic=topic)
    room = (time.perf_counter() - start) / 100_000 * 1e6
    start = time.perf_counter()
    total = sum(len(tree.descendant_codes(code)) for code in sample[:10_000])
    desc = (time.perf_counter() - start) / 10_000 * 1e6
    sizes = [tree.subtree_size(c) for c in sample[:1000]]
    print(f"machine: {describe()}")
    print(f"tree: {len(tree)} nodes, {len(topics)} groups, {len(config.people)} people, {len(text) / 1e6:.1f} MB YAML")
    print(f"first load (YAML parse + validation + tree): {full:.2f} s")
    print(f"load from validated cache (unchanged file):  {cached * 1000:.0f} ms")
    print(f"tree build from nodes (in-memory structure): {build * 1000:.0f} ms")
    print(f"ancestors: {anc:.2f} µs, room→node: {room:.2f} µs, subtree slice: {desc:.2f} µs "
          f"(median subtree {statistics.median(sizes):.0f} nodes, checksum {total})")


if __name__ == "__main__":
    main()
