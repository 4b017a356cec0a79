"""The gridbot command: db upgrade, gen-config, and `run` refusing a broken config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommand_is_registered():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"run", "check", "db", "gen-config"} <= set(choices)


def test_db_upgrade_creates_the_schema(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "sqlite+aiosqlite:///data/gridbot.db", "sqlite+aiosqlite:///data/x.db")
    config.write_text(text, encoding="utf-8")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert (tmp_path / "data" / "x.db").exists()
    assert main(["db", "upgrade", "--config", str(config)]) == 0  # idempotent


def test_gen_config_writes_a_valid_large_config(tmp_path):
    out = tmp_path / "zone.yaml"
    assert main(["gen-config", "--groups", "2000", "--out", str(out)]) == 0
    assert main(["check", "--config", str(out)]) == 0


def test_run_refuses_a_broken_config(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("nodes:\n  - code: A\n    name: x\n    tier: 星球\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"{config}:4: unknown tier '星球'" in result.stderr


def test_run_with_accounts_needs_the_account_and_postgresql(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GRIDBOT_DATABASE_URL", raising=False)
    config = tmp_path / "zone.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "transport:\n  kind: simulator", "transport:\n  kind: simulator\n  accounts: [{name: a}, {name: b}]")
    config.write_text(text, encoding="utf-8")
    assert main(["run", "--config", str(config)]) == 1
    assert "--account NAME" in capsys.readouterr().out
    assert main(["run", "--config", str(config), "--account", "z"]) == 1
    assert "no account 'z'" in capsys.readouterr().out
    assert main(["run", "--config", str(config), "--account", "a"]) == 1
    assert "PostgreSQL" in capsys.readouterr().out


def test_user_add_hashes_the_password_and_prints_a_token_once(tmp_path, capsys, monkeypatch):
    import io
    import sqlite3

    config = tmp_path / "c.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long secret 1\n"))
    assert main(["user", "add", "shuji", "--config", str(config), "--role", "secretary", "--person", "li_hongmei",
                 "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "API token" in out
    row = sqlite3.connect(tmp_path / "data" / "gridbot.db").execute(
        "select password_hash, token_hash from web_users").fetchone()
    assert row[0].startswith("scrypt$") and "a long secret" not in row[0]
    assert out.split()[-1] not in row[1]  # only the token's hash is kept
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "x", "--config", str(config), "--role", "viewer", "--node", "JQS-02",
                 "--password-stdin"]) == 2
    assert main(["user", "add", "y", "--config", str(config), "--role", "leader", "--person", "nobody",
                 "--password-stdin"]) == 2
    assert main(["user", "list", "--config", str(config)]) == 0
    assert "shuji\tsecretary\tli_hongmei" in capsys.readouterr().out
