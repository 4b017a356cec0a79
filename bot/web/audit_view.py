"""The audit log as a secretary reads it: actions, outcomes and targets in Chinese, times in the deployment's zone."""

from __future__ import annotations

from storage.models import AuditRow

ACTION_NAMES = {
    "login": "登录", "logout": "退出", "view": "查看", "post": "提交", "notice": "发通知", "export": "导出",
    "accept": "受理", "resolve": "办结", "reassign": "转派", "escalate": "上报", "close": "关闭", "reopen": "重开",
    "review_register": "登记为工单", "review_dismiss": "忽略待确认", "request": "Open311 报事",
    "identity.code": "生成绑定码", "households_import": "导入住户", "identity.bind": "绑定微信", "identity.unbind": "解除绑定",
}
OUTCOME_NAMES = {"allowed": "允许", "refused": "拒绝", "failed": "失败"}
_TARGET_KINDS = {"ticket": "工单 #", "node": "节点 ", "review": "待确认 [", "notice": "通知 #", "care": "关爱台账 "}


def outcome(row: AuditRow) -> str:
    """allowed / refused / failed; rows from before the outcome column say it with `allowed`."""
    return row.outcome or ("allowed" if row.allowed else "refused")


def action_name(action: str) -> str:
    """登录, 受理 …; an action this table does not know, as it was written."""
    return ACTION_NAMES.get(action, action)


def outcome_name(row: AuditRow) -> str:
    return OUTCOME_NAMES.get(outcome(row), outcome(row))


def target_label(target: str | None) -> str:
    """'ticket:1001' → '工单 #1001', 'csv' → 'CSV'; anything else as it is."""
    if not target:
        return ""
    kind, _, rest = target.partition(":")
    if rest and kind in _TARGET_KINDS:
        return _TARGET_KINDS[kind] + rest + ("]" if kind == "review" else "")
    return {"csv": "CSV", "xlsx": "Excel"}.get(target, target)
