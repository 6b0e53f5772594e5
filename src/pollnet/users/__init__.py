"""Accounts of the operations web: roles and their reach, Argon2id passwords, optional TOTP,
lockout, and the audit of every sign-in and change."""

from pollnet.users.audit import AuditEntry, read_audit, record
from pollnet.users.roles import ROLE_LABELS, ROLES, Account, Role, sees_order, updates_order
from pollnet.users.store import (
    LOCKOUT,
    MAX_FAILURES,
    MIN_PASSWORD,
    Actor,
    SignIn,
    add_user,
    check_password,
    disable_user,
    get_account,
    list_users,
    reset_password,
    sign_in,
)

__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "MIN_PASSWORD",
    "ROLES",
    "ROLE_LABELS",
    "Account",
    "Actor",
    "AuditEntry",
    "Role",
    "SignIn",
    "add_user",
    "check_password",
    "disable_user",
    "get_account",
    "list_users",
    "read_audit",
    "record",
    "reset_password",
    "sees_order",
    "sign_in",
    "updates_order",
]
