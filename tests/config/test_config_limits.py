"""Hostile or broken files are refused quickly, with the file, the line and a fix, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config import MAX_CONFIG_BYTES, ConfigError, ConfigIssue, load_config

from .test_config_errors import GOOD


def _refused(path: Path, text: str | bytes) -> ConfigIssue:
    """Load `text` from `path`; return the first issue, checking it names the file, has a fix and came fast."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_config(path, cache=False)
    assert time.monotonic() - started < 2, "refused within a couple of seconds"
    issue = caught.value.issues[0]
    assert issue.file == str(path)
    assert issue.fix, "every error says what to do"
    return issue


def _laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("use", ["? *lol8\n: x\n", "lexicon: {categories: {safety: *lol8}}\n"],
                         ids=["as a key", "as a value"])
def test_a_billion_laughs_is_refused(tmp_path: Path, use: str) -> None:
    text = _laughs() + use
    assert len(text) < 1200
    issue = _refused(tmp_path / "bomb.yaml", text)
    assert "alias" in issue.message and "1,000,000" in issue.message
    assert issue.line == 7  # the aliases of lol6 go over the limit: 9**7 values


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(GOOD.replace("roles: {网格长: [p2]}", "roles: &grid {网格长: [p2]}")
                    + "tickets:\n  deadlines:\n    urgent: &fast {accept: 5m, resolve: 1h}\n"
                    "  category_deadlines: {safety: *fast, health: *fast}\n", encoding="utf-8")
    config = load_config(path, cache=False)
    assert config.tickets.sla.by_category["safety"] == config.tickets.sla.by_category["health"]


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    assert MAX_CONFIG_BYTES >= 32 * 2**20  # far above a real 11,473-group zone (about 4 MB)
    text = GOOD + "# " + "x" * MAX_CONFIG_BYTES + "\n"
    issue = _refused(tmp_path / "huge.yaml", text)
    assert f"{len(text.encode()):,} bytes" in issue.message and f"{MAX_CONFIG_BYTES:,}" in issue.message


@pytest.mark.parametrize(("text", "line"), [
    ("[" * 20_000 + "]" * 20_000 + "\n", 1),
    ("a: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n", 1),
    ("".join(f"{'  ' * i}a:\n" for i in range(3_000)) + "  " * 3_000 + "b: 1\n", 101),
    ("nodes: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n", 1),  # libyaml's composer crashed the process here
], ids=["20,000 lists", "20,000 flow mappings", "3,000 block mappings", "1,000,000 lists"])
def test_deep_nesting_is_refused(tmp_path: Path, text: str, line: int) -> None:
    issue = _refused(tmp_path / "deep.yaml", text)
    assert "nested more than 100 deep" in issue.message
    assert issue.line == line


@pytest.mark.parametrize(("section", "line"), [
    ("web:\n  port: {n}\n", 18),
    ("tickets:\n  first_number: {n}\n", 18),
    ("notices:\n  mention_chunk: -{n}\n", 18),
    ("transport:\n  send_budget: {{per_minute: {n}}}\n", 18),
    ("tickets:\n  routing: {{security: {n}}}\n", 18),
], ids=["web.port", "tickets.first_number", "notices.mention_chunk", "send_budget", "a text field"])
def test_a_5000_digit_number_is_refused(tmp_path: Path, section: str, line: int) -> None:
    issue = _refused(tmp_path / "digits.yaml", GOOD + section.format(n="9" * 5_000))
    assert "5,000 digits is far too long" in issue.message
    assert issue.line == line


def test_a_long_hex_number_is_refused_too(tmp_path: Path) -> None:
    # hexadecimal is exempt from Python's conversion limit, but the error message would print it in decimal
    issue = _refused(tmp_path / "hex.yaml", GOOD + "web:\n  port: 0x" + "f" * 5_000 + "\n")
    assert "more than 100 digits" in issue.message and issue.line == 18


@pytest.mark.parametrize(("section", "line", "words"), [
    ("web:\n  public_url: https://admin:hunter2@grid.example.org\n", 18, "web.public_url contains a password"),
    ("transport:\n  kind: wechaty\n  endpoint: 'puppet.example.org:8788?token=puppet_abc'\n", 19,
     "transport.endpoint carries a secret in its query (token=)"),
    ("transport:\n  kind: wechaty\n  accounts:\n    - {name: bot-a, endpoint: 'grpc://h:8788?apiKey=x'}\n", 20,
     "transport.accounts[0].endpoint carries a secret"),
    ("database:\n  url: 'postgresql+asyncpg://gridbot@db/grid?password=s3cret'\n", 18,
     "database.url carries a secret in its query (password=)"),
    ("database:\n  url: 'postgresql+asyncpg://gridbot@db/grid?sslmode=require&PWD=x'\n", 18, "(PWD=)"),
    ("digests:\n  charts_dir: 'https://u@cdn.example.org/c?access_token=t&x=1'\n", 18,
     "digests.charts_dir carries a secret in its query (access_token=)"),
    ("tickets:\n  attachments_dir: 'https://u:p@files.example.org/a'\n", 18, "contains a password"),
], ids=["userinfo in public_url", "token in endpoint", "key in account endpoint", "password in database query",
        "pwd in database query", "token in any url", "userinfo in any url"])
def test_secrets_in_urls_are_refused(tmp_path: Path, section: str, line: int, words: str) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(GOOD + section, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, cache=False)
    matching = [i for i in caught.value.issues if words in i.message]
    assert matching, [str(i) for i in caught.value.issues]
    assert matching[0].line == line and matching[0].file == str(path)
    assert "environment variable" in matching[0].fix


def test_urls_without_secrets_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(GOOD + "web: {public_url: 'https://grid.example.org/?lang=zh'}\n"
                    "database: {url: 'postgresql+asyncpg://gridbot@db:5432/grid?sslmode=require&sslkey=/k.pem'}\n",
                    encoding="utf-8")
    assert load_config(path, cache=False).web.public_url == "https://grid.example.org/?lang=zh"


@pytest.mark.parametrize("url", ["postgresql+asyncpg://gridbot@db:port/grid", "postgresql+asyncpg://gridbot@[db/grid",
                                 "postgresql+asyncpg://gridbot@db:99999/grid"])
def test_a_database_url_that_cannot_be_parsed_is_an_error(tmp_path: Path, url: str) -> None:
    issue = _refused(tmp_path / "db.yaml", GOOD + f"database:\n  url: '{url}'\n")
    assert "database.url cannot be read as a URL" in issue.message and issue.line == 18
