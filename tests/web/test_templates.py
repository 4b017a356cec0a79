"""Console pages under their strict CSP: no inline styles or scripts, every page with the security headers."""

from __future__ import annotations

import re

from tests.web.test_console import GRID1, TENANT

PAGES = ("/login", "/console", "/console/tree", "/console/tickets", "/console/tickets/1001", "/console/review",
         "/console/notices", "/console/digest?node=JQS&period=day", "/console/audit", "/rooms/unknown")


async def test_no_inline_style_or_script_on_any_page(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了")
    await web.login("shuji")
    for path in PAGES:
        answer = await web.client.get(path)
        html = await answer.text()
        assert answer.status == 200, path
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"], path
        assert not re.search(r"\sstyle\s*=", html), path
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), path  # only <script src=...>
