"""`gridbot households import | list`: a dry run stores nothing and says why rows are left out; an import
stores and replaces that node's households; a node not in config is an error; on both databases."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import build_parser, main
from storage.household_repository import HouseholdRepository
from tests.conftest import ROOT

SAMPLE = ROOT / "docs" / "samples" / "households_sample.csv"


@pytest.fixture
def config(tmp_path, db_spec, monkeypatch):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_spec.url)
    if db_spec.schema:
        monkeypatch.setenv("GRIDBOT_DATABASE_SCHEMA", db_spec.schema)
    else:
        monkeypatch.delenv("GRIDBOT_DATABASE_SCHEMA", raising=False)
    path = tmp_path / "c.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return str(path)


def stored(db_spec, node="JQS-01-01"):
    async def load():
        db = db_spec.database()
        try:
            async with db.unit_of_work() as s:
                return [h.key for h in await HouseholdRepository(s).load([node])]
        finally:
            await db.dispose()

    return asyncio.run(load())


def test_households_is_a_subcommand():
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "households" in choices


def test_a_dry_run_lists_the_problems_and_stores_nothing(config, db_spec, capsys):
    assert main(["households", "import", str(SAMPLE), "--node", "JQS-01-01", "--dry-run", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "未导入：第 15 行：电话号码位数不对" in out
    assert "将登记：1-1-601（1号楼1单元601室） 吴奶奶" in out and "代联系人 吴强（儿子） 139****0601" in out
    assert "试导入（未保存）" in out and "将登记 11 户" in out
    assert "13900000601" not in out  # phones masked
    assert stored(db_spec) == []


def test_an_import_stores_and_a_second_one_replaces_it(config, db_spec, capsys, tmp_path):
    assert main(["households", "import", str(SAMPLE), "--node", "JQS-01-01", "--config", config]) == 0
    assert "已导入：江桥花苑1号楼（JQS-01-01）登记 11 户" in capsys.readouterr().out
    assert len(stored(db_spec)) == 11
    smaller = tmp_path / "small.csv"
    smaller.write_text("房号,姓名\n1-1-302,陈桂英\n1-2-401,黄建华\n", encoding="utf-8")
    assert main(["households", "import", str(smaller), "--node", "JQS-01-01", "--config", config]) == 0
    assert "登记 2 户、2 人（替换了原有 11 户）" in capsys.readouterr().out
    assert stored(db_spec) == ["1-1-302", "1-2-401"]
    assert main(["households", "list", "--node", "JQS-01", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "1-1-302 陈桂英 户主 —— 无人在群" in out  # the bot has listed no group members
    assert "共登记 2 户，其中 2 户无人在群" in out


def test_wrong_node_or_file_is_an_error_and_stores_nothing(config, db_spec, capsys, tmp_path):
    assert main(["households", "import", str(SAMPLE), "--node", "JQS-99", "--config", config]) == 2
    assert "节点编码 JQS-99 不在" in capsys.readouterr().err
    assert main(["households", "import", str(tmp_path / "none.xlsx"), "--node", "JQS-01-01", "--config", config]) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("甲,乙\n1,2\n", encoding="utf-8")
    assert main(["households", "import", str(bad), "--node", "JQS-01-01", "--config", config]) == 1
    assert "找不到表头" in capsys.readouterr().err
    assert main(["households", "list", "--node", "JQS-99", "--config", config]) == 2
    assert stored(db_spec) == []
