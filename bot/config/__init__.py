"""config.yaml → validated, frozen objects. Every error names the file, the line and the fix.

The YAML is read with line numbers kept for every mapping key and list item, then checked section by
section. All problems are collected (not just the first) and raised together as one ConfigError; the
bot never starts on a config with errors. Warnings (e.g. a node nobody answers for) are kept on the
Config for the log.

schema.py holds the frozen result, errors.py the issues, yaml_lines.py the loader that keeps lines,
checks/ one module per section, cache.py the cache of validated configs, loading.py the entry points.
"""

from bot.config.cache import CACHE_VERSION
from bot.config.errors import ConfigError, ConfigIssue
from bot.config.loading import load_config, parse_config
from bot.config.schema import (
    CATEGORIES,
    CODE_PATTERN,
    DEFAULT_DATABASE_URL,
    DEFAULT_ROLES,
    DEFAULT_TIERS,
    MAX_TIERS,
    RELAY_SCOPES,
    TRANSPORT_KINDS,
    AccountConfig,
    Config,
    DatabaseConfig,
    DigestConfig,
    NoticeConfig,
    ReviewConfig,
    SendBudget,
    TicketConfig,
    TransportConfig,
    WebConfig,
)
from bot.config.yaml_lines import MAX_ALIAS_VALUES, MAX_CONFIG_BYTES, MAX_DEPTH, MAX_INT_DIGITS

__all__ = [
    "CACHE_VERSION", "CATEGORIES", "CODE_PATTERN", "DEFAULT_DATABASE_URL", "DEFAULT_ROLES", "DEFAULT_TIERS",
    "MAX_ALIAS_VALUES", "MAX_CONFIG_BYTES", "MAX_DEPTH", "MAX_INT_DIGITS", "MAX_TIERS", "RELAY_SCOPES",
    "TRANSPORT_KINDS", "AccountConfig", "Config", "ConfigError", "ConfigIssue", "DatabaseConfig", "DigestConfig",
    "NoticeConfig", "ReviewConfig", "SendBudget", "TicketConfig", "TransportConfig", "WebConfig", "load_config",
    "parse_config",
]
