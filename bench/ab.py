"""Before and after, on a machine whose speed drifts: a benchmark run alternately on two commits.

A virtual machine's speed here changes by ±30 % from one run to the next, and for minutes at a time, so two runs
of one commit taken a while apart say little about a change. This runs the pipeline benchmark on the commit
before (a git worktree made for it) and on the working tree, in turn, pair after pair, and reports each pair's
ratio after/before, their median and how many pairs the change won (a sign test: the chance of winning that
many pairs or more if the change did nothing, one-sided). The worktree gets the parser's C extension the working
tree has (without it the commit before would run the pure-Python fallback, and look slower).

The process's CPU a message in the burst (less swayed by the machine's other tenants than the wall clock) and the
latency one message at a time after it (p50, p99) are compared too: the median ratio, and in how many pairs the
change lowered them.

Run: .venv/bin/python bench/ab.py [--before HEAD~1] [--pairs 6] [--db postgresql] [--mix default]
     [--messages 2000] [--latency-samples 300]
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_THROUGHPUT = re.compile(r"throughput: ([\d,]+) messages/s")
_CPU = re.compile(r"CPU ([\d.]+) ms per message")
_LATENCY = re.compile(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms")


def measure(tree: Path, args: argparse.Namespace) -> tuple[int, float, float, float]:
    """One run of bench_pipeline.py in `tree` (its own code, this interpreter): messages per second, this process's
    CPU a message in the burst, and the latency's p50 and p99 (ms)."""
    command = [sys.executable, str(tree / "bench" / "bench_pipeline.py"), "--db", args.db, "--mix", args.mix,
               "--messages", str(args.messages), "--latency-samples", str(args.latency_samples)]
    out = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True).stdout
    found, cpu, latency = _THROUGHPUT.search(out), _CPU.search(out), _LATENCY.search(out)
    if found is None or cpu is None or latency is None:
        raise SystemExit(f"no throughput, CPU or latency in the output of {' '.join(command)}:\n{out}")
    return (int(found.group(1).replace(",", "")), float(cpu.group(1)), float(latency.group(1)),
            float(latency.group(2)))


def copy_extensions(tree: Path) -> None:
    """The parser's C extension, as `pip install -e .` built it here, put in the worktree (copied: its C source is the
    same in both): without it the parser falls back to pure Python and the commit before would run slower than it
    does. A commit whose C source differs is refused (build it there by hand to compare)."""
    for built in sorted(ROOT.glob("bot/**/*.so")):
        relative = built.relative_to(ROOT)
        source = built.parent / (built.name.split(".", 1)[0] + ".c")
        theirs = tree / source.relative_to(ROOT)
        if not theirs.exists() or theirs.read_bytes() != source.read_bytes():
            raise SystemExit(f"{source.relative_to(ROOT)} differs in the commit before: build its extension there")
        shutil.copy2(built, tree / relative)


def sign_test(wins: int, pairs: int) -> float:
    """P(at least `wins` of `pairs` fair coin flips come up heads)."""
    return sum(math.comb(pairs, k) for k in range(wins, pairs + 1)) / 2 ** pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--mix", choices=("default", "writers"), default="default")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=300, help="messages one at a time after the burst")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            copy_extensions(before)
            ratios, cpus, p50s, p99s = [], [], [], []
            for n in range(args.pairs):
                (a, a_cpu, a50, a99), (b, b_cpu, b50, b99) = measure(before, args), measure(ROOT, args)
                ratios.append(b / a)
                cpus.append(b_cpu / a_cpu)
                p50s.append(b50 / a50)
                p99s.append(b99 / a99)
                print(f"pair {n + 1}: before {a:,} / after {b:,} messages/s, ratio {b / a:.2f}; CPU {a_cpu:.2f} / "
                      f"{b_cpu:.2f} ms a message; latency p50 {a50:.2f} / {b50:.2f} ms, p99 {a99:.2f} / {b99:.2f} ms",
                      flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False,
                           capture_output=True)
    wins = sum(1 for r in ratios if r > 1)
    print(f"{args.db}, {args.mix} mix, {args.messages} messages a run, before = {args.before}: median ratio "
          f"{statistics.median(ratios):.3f}, after faster in {wins} of {len(ratios)} pairs "
          f"(sign test, one-sided p = {sign_test(wins, len(ratios)):.3f})")
    for name, values in (("burst CPU a message", cpus), ("latency p50", p50s), ("latency p99", p99s)):
        lower = sum(1 for r in values if r < 1)
        print(f"{name}: median ratio after/before {statistics.median(values):.3f}, lower in {lower} of "
              f"{len(values)} pairs (p = {sign_test(lower, len(values)):.3f})")


if __name__ == "__main__":
    main()
