"""The cache of validated configs: data/.config-cache/<hash>.json, keyed by the file's bytes and CACHE_VERSION.

Parsing YAML dominates for large trees, so the validated tree and people are kept as JSON; the small
sections are validated again from the cached raw data, since they hold types JSON cannot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config.checks import Checker
from bot.config.schema import Config, Prebuilt
from bot.config.yaml_lines import lined
from bot.domain.grid import GridError, GridNode, Person, RoleType, Room

_LOGGER = logging.getLogger(__name__)
CACHE_VERSION = 5


def cache_path(file: Path, raw: bytes) -> Path:
    """Where the validated form of these bytes of `file` is kept."""
    digest = hashlib.sha256(raw + f"|v{CACHE_VERSION}|{file.resolve()}".encode()).hexdigest()[:24]
    return file.resolve().parent / "data" / ".config-cache" / f"{digest}.json"


_HEAVY_KEYS = ("tiers", "roles", "people", "nodes")


def read_cache(cache_file: Path, file: Path) -> Config | None:
    """The cached tree plus the small sections validated again (they hold types JSON cannot)."""
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return None
        nodes = [GridNode(code=n[0], name=n[1], tier=n[2], depth=n[3], parent=n[4],
                          rooms=tuple(Room(node_code=n[0], topic=r[0], id=r[1], members=tuple(r[2])) for r in n[5]),
                          roles=tuple((role, tuple(keys)) for role, keys in n[6]))
                 for n in data["nodes"]]
        prebuilt = Prebuilt(tuple(data["tiers"]), tuple(RoleType(**r) for r in data["roles"]),
                            {p["key"]: Person(**p) for p in data["people"]}, nodes, tuple(data["warnings"]))
        checker = Checker(file)
        config = checker.check(lined(data["rest"]), prebuilt=prebuilt)
        return None if checker.issues else config
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, GridError) as exc:
        _LOGGER.debug("ignoring unreadable config cache %s: %s", cache_file, exc)
        return None


def write_cache(cache_file: Path, config: Config, raw: Mapping[str, Any]) -> None:
    """Keep a validated config for the next load; failing to write only costs speed."""
    data = {
        "version": CACHE_VERSION, "tiers": list(config.tree.tiers),
        "nodes": [[n.code, n.name, n.tier, n.depth, n.parent, [[r.topic, r.id, list(r.members)] for r in n.rooms],
                   [[role, list(keys)] for role, keys in n.roles]] for n in config.tree],
        "people": [dataclasses.asdict(p) for p in config.people.values()],
        "roles": [dataclasses.asdict(r) for r in config.roles.values()],
        "warnings": list(config.warnings),
        "rest": {key: value for key, value in raw.items() if key not in _HEAVY_KEYS},
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, cache_file)
    except (OSError, TypeError, ValueError) as exc:  # a read-only disk only costs speed
        _LOGGER.debug("could not write config cache %s: %s", cache_file, exc)

