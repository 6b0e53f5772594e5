"""The optical budget of a GPON link: losses in dB from the OLT port to the station's ONT.

Loss = fiber attenuation (dB/km, 0.35 at 1310 nm by default) x route length + splices x splice
loss + connectors x connector loss + the splitter's insertion loss. The link passes when the
loss plus the safety margin stays within the class budget (GPON class B+: 28 dB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pollnet.errors import ConfigError
from pollnet.i18n import Digits
from pollnet.plan.model import OpticalBudget
from pollnet.settings import reject_unknown

GPON_CLASSES: Mapping[str, float] = {"A": 20.0, "B": 25.0, "B+": 28.0, "C": 30.0, "C+": 32.0}
"""Optical budget in dB of each ITU-T G.984 optical class."""

SPLITTER_LOSS_DB: Mapping[int, float] = {
    2: 3.7,
    4: 7.3,
    8: 10.5,
    16: 13.7,
    32: 17.1,
    64: 20.5,
}
"""Worst-case insertion loss in dB of a PLC splitter, by split ratio (1:N)."""


@dataclass(frozen=True)
class Optics:
    """The optical parameters of the plan (``[plan.optics]`` in the settings)."""

    gpon_class: str = "B+"
    margin_db: float = 3.0
    fiber_db_per_km: float = 0.35
    splice_db: float = 0.1
    connector_db: float = 0.5
    connectors: int = 4
    end_splices: int = 2

    @property
    def budget_db(self) -> float:
        return GPON_CLASSES[self.gpon_class]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str | None = None) -> Optics:
        """Optics from a settings table (of the settings file ``source``); unknown keys or bad
        values are a configuration error."""
        reject_unknown(values, cls.__dataclass_fields__, "plan.optics", source)
        optics = cls(**values)
        if optics.gpon_class not in GPON_CLASSES:
            raise ConfigError.of(
                "unknown GPON class {value} (known: {known})",
                column="plan.optics.gpon_class",
                value=optics.gpon_class,
                known=", ".join(GPON_CLASSES),
            )
        return optics


def splitter_loss(split: int) -> float:
    """The insertion loss in dB of a 1:``split`` splitter (0 for no splitter)."""
    if split <= 1:
        return 0.0
    if split not in SPLITTER_LOSS_DB:
        raise ConfigError.of(
            "a 1:{split} splitter is not supported (use one of {known})",
            column="plan.split",
            split=split,
            known=Digits(", ".join(str(s) for s in SPLITTER_LOSS_DB)),
        )
    return SPLITTER_LOSS_DB[split]


def optical_budget(
    route_m: float, splices: int, split: int, optics: Optics | None = None
) -> OpticalBudget:
    """The budget of one link of ``route_m`` metres with ``splices`` fusion splices on the way.

    ``splices`` counts the splices inside the network (closures, splitter ports); the end
    splices and the connectors of ``optics`` are added here.
    """
    optics = optics or Optics()
    fiber_km = route_m / 1000.0
    total_splices = splices + optics.end_splices
    split_db = splitter_loss(split)
    loss = (
        fiber_km * optics.fiber_db_per_km
        + total_splices * optics.splice_db
        + optics.connectors * optics.connector_db
        + split_db
    )
    budget = optics.budget_db
    return OpticalBudget(
        fiber_km=round(fiber_km, 4),
        splices=total_splices,
        connectors=optics.connectors,
        splitter_loss_db=split_db,
        total_loss_db=round(loss, 3),
        budget_db=budget,
        margin_db=optics.margin_db,
        ok=loss + optics.margin_db <= budget + 1e-9,
    )


def max_route_m(splices: int, split: int, optics: Optics) -> float:
    """The longest route in metres that still passes with ``splices`` and a 1:``split`` splitter."""
    fixed = (
        (splices + optics.end_splices) * optics.splice_db
        + optics.connectors * optics.connector_db
        + splitter_loss(split)
    )
    room = optics.budget_db - optics.margin_db - fixed
    return max(0.0, room / optics.fiber_db_per_km * 1000.0)
