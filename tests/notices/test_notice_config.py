"""The `notices:` section of config.yaml: defaults, every key, errors naming the line, the cache."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.config.test_config_errors import GOOD

SECTION = ("notices:\n  remind_before: 3h\n  threshold: 0.5\n  mention_chunk: 15\n  ack_window: 2d\n"
           "  quiet_hours: \"21:30-08:00\"\n  failure_report_every: 10m\n")


def test_defaults_without_a_section(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD, encoding="utf-8")
    notices = load_config(path, cache=False).notices
    assert (notices.remind_before, notices.threshold, notices.mention_chunk, notices.quiet) == (
        timedelta(hours=2), 0.8, 20, None)


def test_every_key_is_read_and_survives_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + SECTION, encoding="utf-8")
    for config in (load_config(path), load_config(path)):  # the second comes from the cache
        n = config.notices
        assert n.remind_before == timedelta(hours=3) and n.threshold == 0.5 and n.mention_chunk == 15
        assert n.ack_window == timedelta(days=2) and n.failure_report_every == timedelta(minutes=10)
        assert n.quiet is not None and (n.quiet.start, n.quiet.end) == (time(21, 30), time(8, 0))


@pytest.mark.parametrize(("text", "line", "words"), [
    ("notices:\n  threshold: 80\n", 18, "threshold must be a number from 0 to 1"),
    ("notices:\n  mention_chunk: 500\n", 18, "mention_chunk"),
    ("notices:\n  quiet_hours: night\n", 18, "notices.quiet_hours is not a time window"),
    ("notices:\n  remind_before: soon\n", 18, "not a duration"),
    ("notices:\n  remind_befor: 2h\n", 18, "unknown key 'remind_befor'"),
])
def test_errors_name_the_line_and_a_fix(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, cache=False)
    [issue] = [i for i in caught.value.issues if words in i.message]
    assert issue.line == line and issue.fix
