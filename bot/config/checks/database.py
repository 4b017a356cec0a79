"""The database section: a supported URL the database layer can read, without a password in it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.config.checks.secrets import SecretChecks
from bot.config.schema import DEFAULT_DATABASE_URL, DatabaseConfig
from bot.config.yaml_lines import LinedDict


class DatabaseChecks(SecretChecks):
    """Checks the database: section."""

    def check_database(self, data: LinedDict) -> DatabaseConfig:
        section = self.mapping(data.get("database"), self.line_of(data, "database"), "database")
        if section is None:
            return DatabaseConfig()
        self.known_keys(section, ("url", "url_env", "schema"), "database")
        url = self.string(section, "url", "database", default=DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL
        url_env = self.string(section, "url_env", "database", default="GRIDBOT_DATABASE_URL") or "GRIDBOT_DATABASE_URL"
        if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            self.error(self.line_of(section, "url"), f"unsupported database URL {url!r}",
                       "use sqlite+aiosqlite:///data/gridbot.db or postgresql+asyncpg://user@host/db")
        elif (problem := _unreadable_database_url(url)) is not None:
            self.error(self.line_of(section, "url"), f"database.url cannot be read as a URL: {problem}",
                       "write e.g. postgresql+asyncpg://gridbot@db.example.org:5432/gridbot "
                       "(a port is a number; IPv6 hosts go in [brackets])")
        else:
            self.url_secret(url, self.line_of(section, "url"), "database.url",
                            f"remove it from the file and put the whole URL in the environment variable {url_env}")
        schema = self.string(section, "schema", "database")
        if schema and not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", schema):
            self.error(self.line_of(section, "schema"), f"database.schema {schema!r} is not a plain schema name",
                       "use letters, digits and _ (e.g. schema: gridbot)")
            schema = None
        return DatabaseConfig(url=url, url_env=url_env, schema=schema or None)


def _unreadable_database_url(url: str) -> str | None:
    """Why the database URL cannot be parsed (as the database layer will parse it), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        return str(exc)
    try:
        from storage.session import check_database_url
    except ImportError:  # the storage layer is optional for checking a config
        return None
    return check_database_url(url)
