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
    assert run(line, "--config", str(config))[0]["location"]["place"] == "龙王庙门口"  # the place with its position word (docs/labelling.md)


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


def test_numbers_python_cannot_read_are_errors_and_the_block_goes_on():
    stdin = (b'{"id": 1, "text": "\xe7\x94\xb5\xe6\xa2\xaf\xe5\x9d\x8f\xe4\xba\x86"}\n'  # 电梯坏了
             + b'{"id": 2, "text": "x", "n": ' + b"7" * 5000 + b"}\n"  # beyond Python's 4,300-digit int limit
             + b'{"id": 3, "text": "x", "n": -' + b"7" * 5000 + b"}\n"
             + b'{"id": 4, "text": "x", "n": ' + b"7" * 4000 + b"}\n"  # within the limit: answered as given
             + b'{"id": 5, "text": "\xe6\x94\xb6\xe5\x88\xb0"}\n')
    out = run(stdin)
    assert len(out) == 5
    assert out[0]["id"] == 1 and out[0]["kind"] == "report"
    assert "line 2" in out[1]["error"] and "line 3" in out[2]["error"]
    assert out[3]["id"] == 4 and out[3]["n"] == int("7" * 4000)
    assert out[4]["id"] == 5 and out[4]["kind"] == "ack"


def test_deep_nesting_of_any_shape_is_an_error_and_the_block_goes_on():
    stdin = (b'{"id": 1, "text": "x"}\n'
             + b'{"text": "x", "a": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001 + b"\n"
             + b'{"text": "x", "a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n"
             + b'{"id": 4, "text": "x"}\n')
    out = run(stdin)
    assert len(out) == 4 and out[0]["id"] == 1 and out[3]["id"] == 4
    assert "line 2" in out[1]["error"] and "line 3" in out[2]["error"]


def test_any_exception_becomes_that_lines_error():
    """Whatever goes wrong on one line (here parse() itself fails) answers that line; the rest are kept."""
    program = ("import sys, bot.domain.parsing as parsing\n"
               "real = parsing.parse\n"
               "def parse(text, *args):\n"
               "    if text == 'boom':\n"
               "        raise KeyError('boom')\n"
               "    return real(text, *args)\n"
               "parsing.parse = parse\n"
               "from bot.cli import main\n"
               "sys.exit(main(['parse']))\n")
    stdin = b'{"id": 1, "text": "x"}\n{"id": 2, "text": "boom"}\n{"id": 3, "text": "x"}\n{"text": "boom"}'
    result = subprocess.run([sys.executable, "-c", program], input=stdin, capture_output=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(out) == 4 and out[0]["id"] == 1 and out[2]["id"] == 3
    assert "line 2" in out[1]["error"] and "line 4" in out[3]["error"]


def strict(line: str):
    def refuse(constant: str):
        raise AssertionError(f"{constant} in the output: {line[:200]}")

    return json.loads(line, parse_constant=refuse)


def test_output_is_strict_json():
    """NaN, Infinity and floats beyond range (1e400) have no strict JSON form: the line is refused."""
    stdin = (b'{"id": 1, "text": "x", "v": NaN}\n'
             b'{"id": 2, "text": "x", "v": [Infinity, -Infinity]}\n'
             b'{"id": 3, "text": "x", "v": 1e400}\n'
             b'{"id": 4, "text": "x", "v": -1' + b"0" * 400 + b'.5}\n'
             b'{"id": 5, "text": "x", "v": 1.5e300}\n')
    result = subprocess.run([sys.executable, "-m", "bot", "parse"], input=stdin, capture_output=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode()
    out = [strict(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(out) == 5
    assert all(f"line {n}" in out[n - 1]["error"] for n in range(1, 5))
    assert out[4]["id"] == 5 and out[4]["v"] == 1.5e300


def test_line_and_paragraph_separators_are_escaped():
    text = "3号楼\u2028电梯坏了\u2029"
    stdin = json.dumps({"text": text, "k\u2028": 1}, ensure_ascii=False).encode("utf-8") + b"\n"
    result = subprocess.run([sys.executable, "-m", "bot", "parse"], input=stdin, capture_output=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode()
    assert "\u2028".encode() not in result.stdout and "\u2029".encode() not in result.stdout
    assert b"\\u2028" in result.stdout and b"\\u2029" in result.stdout
    out = json.loads(result.stdout)
    assert out["text"] == text and out["k\u2028"] == 1 and "3号楼" in result.stdout.decode("utf-8")


def test_byte_order_mark_is_ignored():
    bom = b"\xef\xbb\xbf"
    stdin = (bom + b'{"id": 1, "text": "x"}\r\n'  # at the start of the stream
             + bom + b'{"id": 2, "text": "\xe6\x94\xb6\xe5\x88\xb0"}\n'  # and of a later line
             + bom + b"\n"  # a line holding only a BOM is blank
             + bom + b'{"id": 4, "text": "x"}')
    out = run(stdin)
    assert len(out) == 4
    assert out[0]["id"] == 1 and out[1]["id"] == 2 and out[1]["kind"] == "ack" and out[3]["id"] == 4
    assert "empty" in out[2]["error"]


def test_a_line_is_read_as_the_labelling_convention_reads_it():
    """docs/labelling.md: "assume a notice was sent to the group in the last few days" — a bare 好的 is an
    acknowledgement; a line that says it was written for a quiet group is read there (nothing to acknowledge)."""
    lines = [{"text": "好的"}, {"text": "好的", "context": {}}, {"text": "好的", "context": {"notice_pending": False}},
             {"text": "好的", "context": {"notice_pending": True}}]
    out = run("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8"))
    assert [o["kind"] for o in out] == ["ack", "ack", "chat", "ack"]
