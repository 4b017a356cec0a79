"""load_config and parse_config: bytes or text → YAML with lines → checks → Config, or one ConfigError."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from bot.config.cache import cache_path, read_cache, write_cache
from bot.config.checks import Checker
from bot.config.errors import ConfigError, ConfigIssue
from bot.config.schema import Config
from bot.config.yaml_lines import MAX_CONFIG_BYTES, MAX_DEPTH, DuplicateKey, LineLoader, Refused


def load_config(path: str | os.PathLike[str], *, cache: bool = True) -> Config:
    """Read and validate a config file; raise ConfigError naming every problem found.

    YAML parsing dominates for large trees (seconds for 11,000 groups), so a config that validated
    once is kept as JSON under data/.config-cache/ keyed by the file's hash and the code's cache
    version; an edited file misses the cache and is validated again in full.
    """
    file = Path(path)
    try:
        _check_size(file, file.stat().st_size)
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(file), None, "file not found",
                                       "pass --config with the path of your config.yaml")]) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(file), None, f"cannot read the file: {exc.strerror}",
                                       "check the path and its permissions")]) from None
    _check_size(file, len(raw))  # the file may have grown since stat(), or not be a regular file
    cache_file = cache_path(file, raw) if cache else None
    if cache_file is not None:
        cached = read_cache(cache_file, file)
        if cached is not None:
            return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigIssue(str(file), line, f"not UTF-8 text ({exc.reason})",
                                       "save the file as UTF-8")]) from None
    config, data = _parse(text.removeprefix("\ufeff"), file)
    if cache_file is not None:
        write_cache(cache_file, config, data)
    return config


def _check_size(file: Path, size: int) -> None:
    if size > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigIssue(str(file), None, f"the file is {size:,} bytes, over the limit of "
                                       f"{MAX_CONFIG_BYTES:,} bytes ({MAX_CONFIG_BYTES // 2**20} MB)",
                                       "check that this is the config file; a real one for a whole zone is about "
                                       "4 MB")])


def parse_config(text: str, file: Path | str = "config.yaml") -> Config:
    """Validate config text as if read from `file`."""
    if len(text) * 4 > MAX_CONFIG_BYTES:  # a UTF-8 character is at most 4 bytes: count only when it may matter
        _check_size(Path(file), len(text.encode("utf-8", "surrogatepass")))
    return _parse(text, Path(file))[0]


def _parse(text: str, file: Path) -> tuple[Config, Any]:
    try:
        data = yaml.load(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except DuplicateKey as dup:
        raise ConfigError([ConfigIssue(str(file), dup.line, f"key {dup.key!r} appears twice in one mapping "
                                       f"(first at line {dup.first})", "keep only one of them")]) from None
    except Refused as refused:
        raise ConfigError([ConfigIssue(str(file), refused.line, refused.message, refused.fix)]) from None
    except RecursionError:  # MAX_DEPTH should prevent it; never show a traceback for a config
        raise ConfigError([ConfigIssue(str(file), None, "lists and mappings are nested too deeply",
                                       f"flatten the structure to at most {MAX_DEPTH} levels")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(str(file), line, f"bad YAML: {problem}",
                                       "check indentation (spaces, not tabs), colons and quotes on this line")]) from None
    checker = Checker(file)
    config = checker.check(data)
    if checker.issues:
        raise ConfigError(checker.issues)
    assert config is not None
    return config, data

