"""Who may do what in the operations web: the six roles and their reach (pure, no I/O).

The election office's admin does everything; its operators read everything and update the
election office's own work orders; the telecom company, each municipality and each education
district read the readiness and update their own agency's work orders (a municipality and an
education district only those in their area); observers read, change nothing, and never see
voter-level data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pollnet.model import Agency
from pollnet.rollout.workorders import WorkOrder


class Role(enum.StrEnum):
    """The roles of the operations web's accounts."""

    ADMIN = "admin"
    OPERATOR = "operator"
    TELECOM = "telecom"
    MUNICIPALITY = "municipality"
    EDUCATION = "education"
    OBSERVER = "observer"

    @property
    def scoped(self) -> bool:
        """Whether an account of this role acts in one area (a municipality, an education
        district) and must name it."""
        return self in (Role.MUNICIPALITY, Role.EDUCATION)


ROLES: tuple[Role, ...] = tuple(Role)

ROLE_LABELS = {
    Role.ADMIN: "election office (admin)",
    Role.OPERATOR: "election office (operator)",
    Role.TELECOM: "telecom company",
    Role.MUNICIPALITY: "municipality",
    Role.EDUCATION: "education district",
    Role.OBSERVER: "observer",
}
"""A role as people read it (English msgids)."""

_AGENCY = {
    Role.OPERATOR: Agency.ELECTION_OFFICE,
    Role.TELECOM: Agency.TELECOM,
    Role.MUNICIPALITY: Agency.MUNICIPALITY,
    Role.EDUCATION: Agency.EDUCATION,
}


@dataclass(frozen=True)
class Account:
    """A signed-in person: name, role and, for a scoped role, the area's code."""

    name: str
    role: Role
    scope: str = ""
    active: bool = True
    totp: bool = False

    @property
    def agency(self) -> str | None:
        """The agency whose work orders this account updates (None: all for the admin, none
        for an observer)."""
        agency = _AGENCY.get(self.role)
        return agency.value if agency else None

    @property
    def office(self) -> bool:
        """Whether the account belongs to the election office (sees every agency's work)."""
        return self.role in (Role.ADMIN, Role.OPERATOR)


def sees_order(account: Account, order: WorkOrder) -> bool:
    """Whether ``account`` may read ``order``: the office and observers read every agency's
    work, an agency its own (a municipality or an education district: in its area)."""
    if account.office or account.role == Role.OBSERVER:
        return True
    return updates_order(account, order)


def updates_order(account: Account, order: WorkOrder) -> bool:
    """Whether ``account`` may change the status of ``order``."""
    if account.role == Role.ADMIN:
        return True
    if account.agency is None or order.agency != account.agency:
        return False
    return not account.role.scoped or order.scope == account.scope
