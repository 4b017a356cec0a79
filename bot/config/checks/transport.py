"""The transport section: kind, send budgets, retries, and the accounts of a several-account deployment."""

from __future__ import annotations

from datetime import timedelta

from bot.config.checks.secrets import SecretChecks
from bot.config.schema import CODE_PATTERN, TRANSPORT_KINDS, AccountConfig, SendBudget, TransportConfig
from bot.config.yaml_lines import LinedDict, item_lines


class TransportChecks(SecretChecks):
    """Checks the transport: section (with send_budget: and accounts:)."""

    def check_transport(self, data: LinedDict) -> TransportConfig:
        section = self.mapping(data.get("transport"), self.line_of(data, "transport"), "transport")
        if section is None:
            return TransportConfig()
        self.known_keys(section, ("kind", "send_budget", "endpoint", "token_env", "max_attempts", "token",
                                  "accounts", "sim_log", "offline_max_age"), "transport")
        self.no_secret(section, "transport")
        kind = self.string(section, "kind", "transport", default="simulator") or "simulator"
        if kind not in TRANSPORT_KINDS:
            self.error(self.line_of(section, "kind"), f"unknown transport {kind!r}",
                       f"use one of: {', '.join(TRANSPORT_KINDS)}")
        budget = self.send_budget(section, "transport.send_budget", SendBudget())
        accounts = self.check_accounts(section, budget)
        endpoint = self.string(section, "endpoint", "transport")
        token_env = self.string(section, "token_env", "transport",
                                default="WECHATY_PUPPET_SERVICE_TOKEN") or "WECHATY_PUPPET_SERVICE_TOKEN"
        attempts = self.integer(section, "max_attempts", "transport", 5, 1, 100)
        offline_max_age = self.duration(section, "offline_max_age", "transport", timedelta(hours=24))
        if offline_max_age < timedelta(minutes=1) or offline_max_age > timedelta(days=30):
            self.error(self.line_of(section, "offline_max_age"),
                       "transport.offline_max_age must be between 1 minute and 30 days",
                       "e.g. 24h: how long queued messages wait for a lost WeChat connection")
            offline_max_age = timedelta(hours=24)
        return TransportConfig(kind=kind, send_budget=budget, endpoint=endpoint, token_env=token_env,
                               max_attempts=attempts, offline_max_age=offline_max_age, accounts=accounts,
                               sim_log=self.string(section, "sim_log", "transport") or None)

    def send_budget(self, section: LinedDict, where: str, default: SendBudget) -> SendBudget:
        budget_map = self.mapping(section.get("send_budget"), self.line_of(section, "send_budget"), where)
        if budget_map is None:
            return default
        self.known_keys(budget_map, ("per_minute", "jitter"), where)
        per_minute = self.integer(budget_map, "per_minute", "send_budget", default.per_minute, 1, 100_000)
        jitter = budget_map.get("jitter", default.jitter)
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            self.error(self.line_of(budget_map, "jitter"), "send_budget.jitter must be a number from 0 to 1",
                       "set jitter: 0.3")
            jitter = default.jitter
        return SendBudget(per_minute=per_minute, jitter=float(jitter))

    def check_accounts(self, section: LinedDict, budget: SendBudget) -> tuple[AccountConfig, ...]:
        value = section.get("accounts")
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.error(self.line_of(section, "accounts"), "transport.accounts must be a list of accounts",
                       "write e.g. accounts: [{name: bot-a, token_env: GRIDBOT_TOKEN_A}]")
            return ()
        accounts: list[AccountConfig] = []
        for item, line in zip(value, item_lines(value)):
            account = self.mapping(item, line, "transport.accounts[]")
            if account is None:
                continue
            self.known_keys(account, ("name", "send_budget", "endpoint", "token_env", "sim_nodes", "token"),
                            "transport.accounts[]")
            self.no_secret(account, "transport.accounts[]")
            name = self.string(account, "name", "transport.accounts[]", required=True) or ""
            if name and not CODE_PATTERN.match(name):
                self.error(self.line_of(account, "name"), f"account name {name!r} must be letters, digits, - or _",
                           "e.g. name: bot-a")
            if any(a.name == name for a in accounts):
                self.error(self.line_of(account, "name"), f"account {name!r} is listed twice",
                           "give each account its own name")
            nodes = account.get("sim_nodes") or []
            if not isinstance(nodes, list):
                self.error(self.line_of(account, "sim_nodes"), "sim_nodes must be a list of node codes",
                           "e.g. sim_nodes: [JQS-01, JQS-02]")
                nodes = []
            accounts.append(AccountConfig(
                name=name, send_budget=self.send_budget(account, "transport.accounts[].send_budget", budget),
                endpoint=self.string(account, "endpoint", "transport.accounts[]") or None,
                token_env=self.string(account, "token_env", "transport.accounts[]") or None,
                sim_nodes=tuple(str(n) for n in nodes)))
        return tuple(accounts)
