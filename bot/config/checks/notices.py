"""The notices section: reminders before the deadline, the acknowledgement threshold and window."""

from __future__ import annotations

from datetime import timedelta

from bot.config.checks.base import CheckerBase
from bot.config.schema import NoticeConfig
from bot.config.yaml_lines import LinedDict
from bot.domain.sla import QuietHours


class NoticeChecks(CheckerBase):
    """Checks the notices: section."""

    def check_notices(self, data: LinedDict, timezone: str) -> NoticeConfig:
        section = self.mapping(data.get("notices"), self.line_of(data, "notices"), "notices")
        if section is None:
            return NoticeConfig()
        self.known_keys(section, ("remind_before", "threshold", "mention_chunk", "ack_window", "quiet_hours",
                                  "failure_report_every"), "notices")
        quiet = None
        if section.get("quiet_hours") is False:  # YAML reads a bare `off` / `no` as false
            section["quiet_hours"] = "off"
        quiet_text = self.string(section, "quiet_hours", "notices")
        if quiet_text:
            try:
                quiet = QuietHours.parse(quiet_text, timezone)
            except ValueError:
                self.error(self.line_of(section, "quiet_hours"), f"notices.quiet_hours is not a time window: "
                           f"{quiet_text!r}", "write e.g. quiet_hours: \"22:00-07:00\" (or off)")
        threshold = section.get("threshold", 0.8)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            self.error(self.line_of(section, "threshold"), "notices.threshold must be a number from 0 to 1",
                       "e.g. threshold: 0.8 (remind groups where fewer than 80 % acknowledged)")
            threshold = 0.8
        return NoticeConfig(
            remind_before=self.duration(section, "remind_before", "notices", timedelta(hours=2)),
            threshold=float(threshold),
            mention_chunk=self.integer(section, "mention_chunk", "notices", 20, 1, 100),
            ack_window=self.duration(section, "ack_window", "notices", timedelta(days=7)), quiet=quiet,
            failure_report_every=self.duration(section, "failure_report_every", "notices", timedelta(minutes=5)))
