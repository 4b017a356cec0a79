"""Secrets must not be written in the file: no token or password keys, none in any URL of the file."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.config.checks.base import CheckerBase
from bot.config.yaml_lines import LinedDict, item_lines

_SECRET_KEYS = ("token", "password", "secret", "api_key", "apikey")
# a URL query parameter whose name ends like these carries a secret (?token=, ?api_key=, ?password=)
_SECRET_PARAMS = ("token", "key", "password", "secret", "passwd", "pwd")
_PATH_PARAMS = ("sslkey", "sslcert", "sslrootcert", "sslcrl")  # file names, not secrets


class SecretChecks(CheckerBase):
    """Refuses secrets in the config: by key name anywhere, and inside URLs."""

    def no_secret(self, mapping: LinedDict, where: str) -> None:
        for key, value in mapping.items():
            if any(s in key.lower() for s in _SECRET_KEYS) and not key.lower().endswith("_env") and value:
                self.error(self.line_of(mapping, key), f"{where}.{key}: secrets must not be written in the config file",
                           f"remove it and set the environment variable instead (e.g. {key}_env: NAME)")

    def url_secret(self, url: str, line: int | None, where: str, fix: str) -> bool:
        """Report a password in the URL's user part or a secret-named query parameter; True if one was found."""
        try:
            parts = urlsplit(url if "://" in url else f"//{url}")
            password = parts.password
        except ValueError:  # not a URL after all; fields that must be URLs check that themselves
            return False
        if password:
            self.error(line, f"{where} contains a password (user:password@)", fix)
            return True
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if _is_secret_param(name)]
        if names:
            self.error(line, f"{where} carries a secret in its query ({', '.join(f'{n}=' for n in names)})", fix)
            return True
        return False

    def no_secret_in_urls(self, data: LinedDict) -> None:
        """Every URL in the file (database.url apart, checked with its section): no passwords, no tokens."""
        fix = "remove it from the URL and keep it in an environment variable; secrets must not be written in the file"
        token_fix = ("remove it: the token goes in the environment variable named by token_env "
                     "(default WECHATY_PUPPET_SERVICE_TOKEN)")
        stack: list[tuple[Any, str]] = [(data, "")]
        while stack:
            container, where = stack.pop()
            if isinstance(container, dict):
                items = [(f"{where}.{k}" if where else str(k), v, self.line_of(container, k), str(k))
                         for k, v in container.items()]
            else:
                items = [(f"{where}[{i}]", v, line, "") for i, (v, line) in
                         enumerate(zip(container, item_lines(container)))]
            for path, value, line, key in items:
                if isinstance(value, (dict, list)):
                    stack.append((value, path))
                elif isinstance(value, str) and path != "database.url" and ("://" in value or key == "endpoint"):
                    self.url_secret(value, line, path, token_fix if path.startswith("transport") else fix)


def _is_secret_param(name: str) -> bool:
    name = name.strip().lower().replace("-", "_")
    return name not in _PATH_PARAMS and name.endswith(_SECRET_PARAMS)
