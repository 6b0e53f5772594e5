"""The design settings of a plan: the ``[plan]`` table of the settings file.

```toml
[plan]
costs = "my-costs.toml"      # a cost model to merge over the defaults (costs.toml)
split = 32                   # splitter ratio 1:N per PON port (4, 8, 16, 32 or 64)
splitter_placement = "branch"  # "branch": at the branch point of the port's stations;
                               # "exchange": every splitter in the exchange building
cable_spare = 0.5            # spare cores on top of the cores in use (0.5 = 50 %)
max_drop_m = 300.0           # a station farther than this from any street is flagged
redundancy = true            # give critical stations a second, trench-disjoint route
steiner_seconds = 2.0        # search budget of the whole-city Steiner forest (0: none)

[plan.optics]
gpon_class = "B+"            # A, B, B+, C or C+ (budget 20, 25, 28, 30, 32 dB)
margin_db = 3.0
fiber_db_per_km = 0.35       # at 1310 nm
splice_db = 0.1
connector_db = 0.5
connectors = 4
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pollnet.errors import ConfigError
from pollnet.plan.budget import Optics, splitter_loss
from pollnet.settings import reject_unknown

PLACEMENTS = ("branch", "exchange")


@dataclass(frozen=True)
class PlanParameters:
    """Everything the design depends on besides the inputs and the cost model."""

    split: int = 32
    splitter_placement: str = "branch"
    cable_spare: float = 0.5
    max_drop_m: float = 300.0
    redundancy: bool = True
    costs: str | None = None
    steiner_seconds: float = 2.0
    optics: Optics = field(default_factory=Optics)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str | None = None) -> PlanParameters:
        """Parameters from the ``[plan]`` settings table (of the settings file ``source``); bad
        values are a configuration error."""
        values = dict(values)
        optics = Optics.from_mapping(values.pop("optics", {}), source)
        reject_unknown(values, set(cls.__dataclass_fields__) - {"optics"}, "plan", source)
        try:
            params = cls(optics=optics, **values)
        except TypeError as exc:
            raise ConfigError.of(
                "bad plan settings: {reason}", column="plan", reason=str(exc)
            ) from None
        params.check()
        return params

    def check(self) -> None:
        """Refuse values the design cannot work with."""
        splitter_loss(self.split)
        if self.splitter_placement not in PLACEMENTS:
            raise ConfigError.of(
                "splitter_placement must be branch or exchange, not {value}",
                column="plan.splitter_placement",
                value=self.splitter_placement,
            )
        if not 0 <= self.cable_spare <= 4:
            raise ConfigError.of(
                "cable_spare must lie between 0 and 4, not {value}",
                column="plan.cable_spare",
                value=self.cable_spare,
            )
        if not 0 <= self.steiner_seconds <= 600:
            raise ConfigError.of(
                "steiner_seconds must lie between 0 and 600, not {value}",
                column="plan.steiner_seconds",
                value=self.steiner_seconds,
            )
        if self.max_drop_m <= 0:
            raise ConfigError.of(
                "max_drop_m must be above zero, not {value}",
                column="plan.max_drop_m",
                value=self.max_drop_m,
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for storing with the plan."""
        return asdict(self)
