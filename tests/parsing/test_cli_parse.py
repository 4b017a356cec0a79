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
