"""The web section: where the console listens, its public address, cookies and the Open311 feed."""

from __future__ import annotations

import re

from bot.config.checks.base import CheckerBase
from bot.config.schema import WebConfig
from bot.config.yaml_lines import LinedDict


class WebChecks(CheckerBase):
    """Checks the web: section."""

    def check_web(self, data: LinedDict) -> WebConfig:
        section = self.mapping(data.get("web"), self.line_of(data, "web"), "web")
        if section is None:
            return WebConfig()
        self.known_keys(section, ("host", "port", "enabled", "public_url", "secure_cookies", "open311_public"), "web")
        host = self.string(section, "host", "web", default="127.0.0.1") or "127.0.0.1"
        port = self.integer(section, "port", "web", 8080, 0, 65535)
        enabled = section.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(self.line_of(section, "enabled"), "web.enabled must be true or false", "write enabled: true")
            enabled = True
        public_url = self.string(section, "public_url", "web")
        if public_url and not re.match(r"^https?://[^\s/]+", public_url):
            self.error(self.line_of(section, "public_url"), f"web.public_url is not a web address: {public_url!r}",
                       "write e.g. public_url: https://grid.example.org")
            public_url = None
        secure = section.get("secure_cookies", bool(public_url and public_url.startswith("https://")))
        if not isinstance(secure, bool):
            self.error(self.line_of(section, "secure_cookies"), "web.secure_cookies must be true or false",
                       "write secure_cookies: true when the console is served over HTTPS")
            secure = False
        public_feed = section.get("open311_public", False)
        if not isinstance(public_feed, bool):
            self.error(self.line_of(section, "open311_public"), "web.open311_public must be true or false",
                       "write open311_public: true only if anyone may read the requests (masked, without names)")
            public_feed = False
        return WebConfig(host=host, port=port, enabled=enabled, public_url=public_url or None, secure_cookies=secure,
                         open311_public=public_feed)
