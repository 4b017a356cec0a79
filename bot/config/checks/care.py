"""The care section: the kinds of care, who has a care duty, check-in timing, and the residents in the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from bot.config.checks.base import CheckerBase, kind_of
from bot.config.schema import CHECK_IN_CHANNELS, CareConfig, CareResident, CheckInSetting
from bot.config.yaml_lines import LinedDict, LinedList
from bot.domain.care import CareEntry, CareError, Relative, check_entry
from bot.domain.grid import GridTree, Person, RoleType

_RESIDENT_KEYS = ("key", "name", "node", "address", "kinds", "responsible", "visit_every", "call_every",
                  "check_in", "family", "notes")


class CareChecks(CheckerBase):
    """Checks the care: section (needs the tree and people, so it runs after them)."""

    def _clock(self, mapping: LinedDict, key: str, where: str, default: time) -> time:
        value = mapping.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return time(value // 60, value % 60)  # YAML 1.1 reads an unquoted 9:30 as minutes (570)
        try:
            hour, minute = str(value).strip().split(":")
            return time(int(hour), int(minute))
        except ValueError:
            self.error(self.line_of(mapping, key), f"{where}.{key} is not a time of day: {value!r}",
                       f'write e.g. {key}: "09:00"')
            return default

    def _names(self, section: LinedDict, key: str, default: tuple[str, ...], allowed: set[str] | None,
               example: str) -> tuple[str, ...]:
        value = section.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
            self.error(self.line_of(section, key), f"care.{key} must be a list of names", f"write e.g. {key}: {example}")
            return default
        unknown = [v for v in value if allowed is not None and v not in allowed]
        if unknown:
            self.error(self.line_of(section, key), f"care.{key} names unknown role {unknown[0]!r}",
                       "use a role defined under roles: (e.g. 网格长, 微网格长, 楼道长)")
        return tuple(dict.fromkeys(v.strip() for v in value))

    def check_care(self, data: LinedDict, tree: GridTree, people: Mapping[str, Person],
                   roles: tuple[RoleType, ...]) -> CareConfig:
        section = self.mapping(data.get("care"), self.line_of(data, "care"), "care")
        if section is None:
            return CareConfig()
        self.known_keys(section, ("kinds", "duty_roles", "check_in", "holidays", "residents"), "care")
        defaults = CareConfig()
        kinds = self._names(section, "kinds", defaults.kinds, None, "[独居老人, 高龄, 残疾]")
        duty = self._names(section, "duty_roles", defaults.duty_roles, {r.name for r in roles}, "[网格长, 楼道长]")
        timing = self.mapping(section.get("check_in"), self.line_of(section, "check_in"), "care.check_in")
        at, answer_by = defaults.at, defaults.answer_by
        second_after, ticket_after = defaults.second_after, defaults.ticket_after
        if timing is not None:
            self.known_keys(timing, ("at", "answer_by", "second_after", "ticket_after"), "care.check_in")
            at = self._clock(timing, "at", "care.check_in", at)
            answer_by = self._clock(timing, "answer_by", "care.check_in", answer_by)
            if answer_by <= at:
                self.error(self.line_of(timing, "answer_by"), "care.check_in.answer_by must come after at",
                           'e.g. at: "09:00", answer_by: "11:00"')
                at, answer_by = defaults.at, defaults.answer_by
            second_after = self.duration(timing, "second_after", "care.check_in", second_after)
            ticket_after = self.duration(timing, "ticket_after", "care.check_in", ticket_after)
        holidays = self._holidays(section)
        residents: list[CareResident] = []
        raw = section.get("residents")
        if raw is not None and not isinstance(raw, list):
            self.error(self.line_of(section, "residents"), f"care.residents must be a list, not {kind_of(raw)}",
                       "write one '- key: ...' block per resident")
            raw = []
        seen: set[str] = set()
        for index, item in enumerate(raw or ()):
            line = item.line if isinstance(item, LinedDict) else (
                raw.item_lines[index] if isinstance(raw, LinedList) else self.line_of(section, "residents"))
            if not isinstance(item, dict):
                self.error(line, f"care.residents item {index + 1} must be a mapping, not {kind_of(item)}",
                           "write key:, name:, node:, address:, kinds:, responsible: lines")
                continue
            resident = self._resident(item, tree, people, kinds, at, answer_by)  # type: ignore[arg-type]
            if resident is None:
                continue
            if resident.entry.key in seen:
                self.error(self.line_of(item, "key"), f"care resident key {resident.entry.key!r} appears twice",
                           "give each resident its own key")
                continue
            seen.add(resident.entry.key)
            residents.append(resident)
        return CareConfig(kinds=kinds, duty_roles=duty, at=at, answer_by=answer_by, second_after=second_after,
                          ticket_after=ticket_after, holidays=holidays, residents=tuple(residents))

    def _holidays(self, section: LinedDict) -> tuple[date, ...]:
        value = section.get("holidays", [])
        if not isinstance(value, list):
            self.error(self.line_of(section, "holidays"), "care.holidays must be a list of dates",
                       "write e.g. holidays: [2026-10-01, 2026-10-02]")
            return ()
        days = []
        for item in value:
            try:
                days.append(item if isinstance(item, date) else date.fromisoformat(str(item)))
            except ValueError:
                self.error(self.line_of(section, "holidays"), f"care.holidays: {item!r} is not a date",
                           "write dates as 2026-10-01")
        return tuple(sorted(set(days)))

    def _every(self, item: LinedDict, key: str, where: str) -> timedelta | None:
        if item.get(key) is None:
            return None
        return self.duration(item, key, where, timedelta(days=30))

    def _resident(self, item: LinedDict, tree: GridTree, people: Mapping[str, Person], kinds: tuple[str, ...],
                  at: time, answer_by: time) -> CareResident | None:
        self.known_keys(item, _RESIDENT_KEYS, "a care resident")
        key = self.string(item, "key", "care resident", required=True) or ""
        where = f"care resident {key!r}" if key else "care resident"
        name = self.string(item, "name", where, required=True) or ""
        node = self.string(item, "node", where, required=True) or ""
        if node and node not in tree:
            self.error(self.line_of(item, "node"), f"{where}: node {node!r} is not in the tree",
                       "use a node code from nodes: (e.g. the 楼道 or 微网格 the resident lives in)")
            return None
        responsible = self.string(item, "responsible", where, required=True) or ""
        if responsible and responsible not in people:
            self.error(self.line_of(item, "responsible"), f"{where}: responsible {responsible!r} is not defined",
                       "use a person key from people: (whoever visits this resident)")
            return None
        raw_kinds = item.get("kinds", [])
        if isinstance(raw_kinds, str):
            raw_kinds = [raw_kinds]
        if not isinstance(raw_kinds, list):
            self.error(self.line_of(item, "kinds"), f"{where}: kinds must be a list", "write e.g. kinds: [独居老人, 高龄]")
            return None
        family = self._family(item, where)
        check_in = self._check_in(item, where, people, at, answer_by)
        notes = self.string(item, "notes", where, default="") or ""
        if not (key and name and node and responsible):
            return None
        entry = CareEntry(key=key, name=name, node_code=node, address=self.string(item, "address", where,
                                                                                  default="") or "",
                          kinds=tuple(str(k) for k in raw_kinds), responsible=responsible,
                          visit_every=self._every(item, "visit_every", where),
                          call_every=self._every(item, "call_every", where), notes=notes, family=family,
                          check_in=check_in is not None)
        try:
            entry = check_entry(entry, kinds, tree)
        except CareError as exc:
            self.error(item.line, f"{where}: {exc}", "see care: in the sample config.yaml (kinds, visit_every, "
                       "call_every or check_in)")
            return None
        return CareResident(entry, check_in)

    def _family(self, item: LinedDict, where: str) -> tuple[Relative, ...]:
        raw = item.get("family", [])
        if not isinstance(raw, list):
            self.error(self.line_of(item, "family"), f"{where}: family must be a list",
                       "write e.g. family: [{name: 吴强, relation: 儿子, contact: wxid_wuqiang}]")
            return ()
        family = []
        for member in raw:
            if not isinstance(member, dict) or not str(member.get("contact") or "").strip():
                self.error(self.line_of(item, "family"), f"{where}: each family member needs a contact",
                           "write {name: 吴强, relation: 儿子, contact: <WeChat id or person key>}")
                continue
            family.append(Relative(str(member["contact"]).strip(), str(member.get("name") or "").strip(),
                                   str(member.get("relation") or "").strip()))
        return tuple(family)

    def _check_in(self, item: LinedDict, where: str, people: Mapping[str, Person], at: time,
                  answer_by: time) -> CheckInSetting | None:
        raw: Any = item.get("check_in")
        if raw is None or raw is False:
            return None
        section = self.mapping(raw, self.line_of(item, "check_in"), f"{where}.check_in")
        if section is None:
            return None
        self.known_keys(section, ("at", "answer_by", "channel", "contact"), f"{where}.check_in")
        own_at = self._clock(section, "at", f"{where}.check_in", at)
        own_by = self._clock(section, "answer_by", f"{where}.check_in", answer_by)
        if own_by <= own_at:
            self.error(self.line_of(section, "answer_by") or self.line_of(section, "at"),
                       f"{where}.check_in: answer_by must come after at", 'e.g. at: "09:00", answer_by: "11:00"')
            return None
        channel = self.string(section, "channel", f"{where}.check_in", default="private") or "private"
        if channel not in CHECK_IN_CHANNELS:
            self.error(self.line_of(section, "channel"), f"{where}.check_in.channel must be private or group, "
                       f"not {channel!r}", "write channel: private (私聊) or channel: group (在楼道群里问)")
            return None
        contact = self.string(section, "contact", f"{where}.check_in", required=True) or ""
        if not contact:
            return None
        if contact in people and not people[contact].wechat_id:
            self.warn(self.line_of(section, "contact"), f"{where}: check-in proxy {contact!r} has no wechat_id; "
                      "the prompt reaches them only once they have bound their WeChat (gridbot user bind)")
        return CheckInSetting(own_at, own_by, channel, contact)
