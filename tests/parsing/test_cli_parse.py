"""`gridbot parse` end to end, as other tools call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(stdin: bytes, *args: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "bot", "parse", *args], input=stdin, capture_output=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_passthrough_order_and_errors():
    lines = [
        json.dumps({"id": "a", "text": "33号楼消防通道又堆满纸箱了", "extra": [1, 2]}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": "b", "text": "收到", "context": {"notice_pending": True}}, ensure_ascii=False),
        json.dumps({"id": "c"}),
    ]
    out = run(("\n".join(lines) + "\n").encode("utf-8") + b"\xff\xfe broken\n")
    assert len(out) == 5
    assert out[0]["id"] == "a" and out[0]["extra"] == [1, 2] and out[0]["kind"] == "report"
    assert out[0]["category"] == "safety" and out[0]["location"] == {"building": "33", "unit": None, "room": None,
                                                                     "place": None}
    assert isinstance(out[0]["explanation"], list) and out[0]["explanation"]
    assert "error" in out[1] and "line 2" in out[1]["error"]
    assert out[2]["id"] == "b" and out[2]["kind"] == "ack"
    assert "error" in out[3]
    assert "error" in out[4] and "UTF-8" in out[4]["error"]


def test_config_words(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("nodes:\n  - {code: A, name: 甲, tier: 社区}\nlexicon:\n  places: [龙王庙]\n", encoding="utf-8")
    line = json.dumps({"text": "龙王庙门口的路灯坏了"}, ensure_ascii=False).encode("utf-8") + b"\n"
    assert run(line)[0]["location"]["place"] is None
    assert run(line, "--config", str(config))[0]["location"]["place"] == "龙王庙"


def test_broken_config_exits_1(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("nodes: 3\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "parse", "--config", str(config)], input=b"",
                            capture_output=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1 and b"bad.yaml:1" in result.stderr


def test_odd_lines_keep_their_place():
    stdin = (b'{"id": 1, "text": "\\ud800 \\u0000 33\\u53f7\\u697c\\u7740\\u706b\\u4e86"}\n'  # lone surrogate, NUL
             + b"\n"  # blank: an error object, so output line N still answers input line N
             + b"[" * 100_000 + b"\n"  # nested too deeply for the JSON decoder
             + b'"just a string"\n'
             + b'{"id": 5, "text": "\xe6\x94\xb6\xe5\x88\xb0"}')  # 收到, and no newline at the end
    out = run(stdin)
    assert len(out) == 5
    assert out[0]["id"] == 1 and out[0]["text"].startswith("\ud800") and out[0]["kind"] == "report"
    assert out[0]["location"]["building"] == "33" and out[0]["urgency"] == "urgent"
    assert "empty" in out[1]["error"] and "line 3" in out[2]["error"] and "line 4" in out[3]["error"]
    assert out[4]["id"] == 5 and out[4]["kind"] == "ack"


def test_answers_each_line_without_waiting_for_the_end():
    """A caller may keep the process open, write one line and read its answer (a co-process)."""
    process = subprocess.Popen([sys.executable, "-m", "bot", "parse"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, cwd=ROOT)
    try:
        for text, kind in (("电梯坏了", "report"), ("谢谢物业", "chat")):
            process.stdin.write(json.dumps({"text": text}, ensure_ascii=False).encode("utf-8") + b"\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["kind"] == kind
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0
