"""The map in docs/architecture.md, kept true: layers import only downwards, SQL lives in storage/, no circles.

Every import is read from the source (module level and inside functions alike), so a lazy import cannot
hide a dependency the map forbids.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")

# lowest first; a module may import its own layer and those below it, never one above
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("domain", ("bot.domain", "bot.messages", "bot.clock")),
    ("storage", ("storage",)),
    ("config", ("bot.config", "bot.transport", "bot.jobs", "bot.households_import")),
    ("desks", ("bot.tickets", "bot.notices", "bot.review", "bot.digests", "bot.chart", "bot.identity",
                "bot.households", "bot.duty", "bot.care", "bot.care_reminders",
                "bot.polls", "bot.satisfaction")),
    ("work", ("bot.work", "bot.feature")),
    ("handlers", ("handlers",)),
    ("runtime", ("bot.inbound", "bot.rooms", "bot.chores", "bot.outbox", "bot.cluster", "bot.settle")),
    ("app", ("bot.app",)),
    ("entry", ("bot.web", "bot.cli", "bot.replay", "bot.__main__", "bot")),
]


def find_modules(root: Path) -> dict[str, Path]:
    """Module name → file, for the bot's packages under `root`."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def layer_of(module: str) -> int:
    best, depth = -1, -1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = number, len(prefix)
    if best < 0:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py (and docs/architecture.md)")
    return best


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported name, line) for every import in the file, external packages included."""
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            out.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
    return out


def upward_imports(modules: dict[str, Path]) -> list[str]:
    """Imports of a higher layer by a lower one."""
    wrong = []
    for name, path in modules.items():
        mine = layer_of(name)
        for imported, line in _imports(path):
            target = _resolve(imported, modules)
            if target is None or target == name:
                continue
            theirs = layer_of(target)
            if theirs > mine:
                wrong.append(f"{path.name}:{line} {name} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    return sorted(set(wrong))


def sql_outside_storage(modules: dict[str, Path]) -> list[str]:
    """SQLAlchemy imported, or a statement executed, outside storage/."""
    wrong = []
    for name, path in modules.items():
        if name == "storage" or name.startswith("storage."):
            continue
        for imported, line in _imports(path):
            if imported == "sqlalchemy" or imported.startswith("sqlalchemy."):
                wrong.append(f"{name}:{line} imports {imported}")
        for number, source in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(session|conn|connection)\.execute\(", source):
                wrong.append(f"{name}:{number} runs SQL")
    return sorted(set(wrong))


def circles(modules: dict[str, Path]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round about."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for imported, _ in _imports(path):
            target = _resolve(imported, modules)
            if target is not None and target != name and not name.startswith(target + "."):
                edges[name].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


MODULES = find_modules(ROOT)


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer_of(name)


def test_no_layer_imports_a_higher_one() -> None:
    wrong = upward_imports(MODULES)
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_sql_only_in_storage() -> None:
    wrong = sql_outside_storage(MODULES)
    assert not wrong, "SQL outside storage/:\n" + "\n".join(wrong)


def test_handlers_reach_data_through_desks() -> None:
    """A handler asks a desk (ctx.work.tickets, …); it never builds a repository itself."""
    wrong = [f"{name}:{line} imports {imported}" for name, path in MODULES.items() if name.startswith("handlers")
             for imported, line in _imports(path) if re.match(r"storage\.(repositories|\w+_repository)\b", imported)]
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    assert not circles(MODULES)


def test_the_map_names_every_layer() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix in ("bot", "bot.__main__"):
                continue
            assert f"`{prefix}" in text, f"docs/architecture.md does not place {prefix} (layer {name})"


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """Each rule fails on a planted violation, so a green run means something."""
    files = {
        "bot/__init__.py": "",
        "bot/domain/__init__.py": "",
        "bot/domain/grid.py": "def parent():\n    from bot.app import GridBot  # a lazy import counts too\n",
        "bot/app.py": "",
        "bot/web/__init__.py": "",
        "bot/web/app.py": "from bot.web.console import page\n",
        "bot/web/console.py": "from sqlalchemy import select\nimport bot.web.app\n",
        "handlers/__init__.py": "",
        "storage/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    planted = find_modules(tmp_path)
    assert [w.split(" ", 1)[1] for w in upward_imports(planted)] == ["bot.domain.grid (domain) imports bot.app (app)"]
    assert sql_outside_storage(planted) == ["bot.web.console:1 imports sqlalchemy", "bot.web.console:1 imports sqlalchemy.select"]
    assert circles(planted) == [["bot.web.app", "bot.web.console"]]
