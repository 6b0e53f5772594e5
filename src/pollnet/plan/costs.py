"""The cost model: documented defaults in ``costs.toml``, overridable by a user TOML file.

All money is in rials. :func:`load_costs` reads the packaged defaults and merges a user file over
them (only the keys it names change). :meth:`CostModel.edge_prices` turns the model into the
price of building each street edge, which is the edge weight of the Steiner step.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pollnet.errors import ConfigError
from pollnet.plan.model import CORE_SIZES, Method

DIG_METHODS: tuple[Method, ...] = ("open_trench", "micro_trench")
"""Methods that dig the street and so need the municipal permit."""

PERMIT_METHODS: frozenset[str] = frozenset(DIG_METHODS)
"""The one source of which methods need a municipal permit: the cost model prices the permit
for these, the municipality's work list counts permits for these, and the rollout makes permit
work orders for these (aerial cable on existing poles and existing ducts need none)."""

BUILD_METHODS: tuple[Method, ...] = ("open_trench", "micro_trench", "aerial", "existing_duct")
"""Methods the planner can choose for a street edge without existing fiber."""

OTHER = "other"

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EdgePrices:
    """What building each street edge costs with its cheapest allowed method.

    ``method_index`` indexes :data:`BUILD_METHODS` (or is ``-1`` for existing fiber);
    ``civil_rial`` is trench, restoration and permit; ``weight`` adds the smallest cable per
    metre and is what the Steiner step minimises. Edges no method may use have an infinite cost.
    """

    method_index: NDArray[np.int8]
    civil_rial: FloatArray
    weight: FloatArray

    def method(self, edge: int) -> Method:
        """The method chosen for ``edge``."""
        index = int(self.method_index[edge])
        return "existing_fiber" if index < 0 else BUILD_METHODS[index]


@dataclass(frozen=True)
class CostModel:
    """The cost model as loaded (``raw`` is stored with every plan, so it can be reproduced)."""

    raw: Mapping[str, Any]

    @property
    def usd_rate(self) -> float:
        return float(self.raw["usd_rate"])

    def _table(self, *keys: str) -> Mapping[str, Any]:
        value: Any = self.raw
        for key in keys:
            value = value.get(key, {}) if isinstance(value, Mapping) else {}
        return value if isinstance(value, Mapping) else {}

    def rate(self, table: str, method: str, street_class: str) -> float | None:
        """Rials per metre of ``table`` (trench or restoration) for a method and class, or None.

        ``None`` means the method is not allowed on that class (trench) or costs nothing
        (restoration).
        """
        values = self._table(table, method)
        if street_class in values:
            return float(values[street_class])
        if OTHER in values:
            return float(values[OTHER])
        return None

    def permit(self, street_class: str) -> float:
        """The digging permit for one street segment of ``street_class``."""
        values = self._table("permit")
        return float(values.get(street_class, values.get(OTHER, 0.0)))

    def cable_per_m(self, cores: int) -> float:
        """Rials per metre of a cable with ``cores`` fiber cores."""
        return float(self._table("cable")[str(cores)])

    def splitter(self, split: int) -> float:
        """Rials for one 1:``split`` splitter."""
        values = self._table("splitter")
        if str(split) not in values:
            raise ConfigError.of(
                "the cost model has no price for a 1:{split} splitter",
                column="splitter",
                split=split,
            )
        return float(values[str(split)])

    def value(self, table: str, key: str) -> float:
        """A single amount, e.g. ``value("equipment", "ont")``."""
        return float(self._table(table)[key])

    def edge_prices(
        self,
        class_names: Sequence[str],
        edge_class: NDArray[np.integer[Any]],
        length_m: FloatArray,
        on_fiber: NDArray[np.bool_] | None = None,
    ) -> EdgePrices:
        """The price of each street edge with its cheapest allowed method.

        Parameters
        ----------
        class_names
            The street class (OSM ``highway`` value) of each class code.
        edge_class
            Each edge's class code, indexing ``class_names``.
        length_m
            Each edge's length in metres.
        on_fiber
            Edges that already carry fiber: priced at ``existing_fiber.per_m`` (no trench).
        """
        n_classes = len(class_names)
        best = np.full(edge_class.shape[0], np.inf)
        best_method = np.full(edge_class.shape[0], -2, dtype=np.int8)
        for index, method in enumerate(BUILD_METHODS):
            per_m = np.full(n_classes, np.inf)
            fixed = np.zeros(n_classes)
            for code, name in enumerate(class_names):
                trench = self.rate("trench", method, name)
                if trench is None:
                    continue
                per_m[code] = trench + (self.rate("restoration", method, name) or 0.0)
                if method in PERMIT_METHODS:
                    fixed[code] = self.permit(name)
            price = per_m[edge_class] * length_m + fixed[edge_class]
            better = price < best
            best[better] = price[better]
            best_method[better] = index
        weight = best + self.cable_per_m(CORE_SIZES[0]) * length_m
        if on_fiber is not None and on_fiber.any():
            fiber_cost = self.value("existing_fiber", "per_m") * length_m[on_fiber]
            best[on_fiber] = fiber_cost
            best_method[on_fiber] = -1
            weight[on_fiber] = fiber_cost
        # Zero weights would let the Steiner step wander; a milli-rial per metre keeps it honest.
        weight = np.maximum(weight, 1e-3 * np.maximum(length_m, 1e-3))
        return EdgePrices(best_method, best, weight)


def default_costs_text() -> str:
    """The packaged ``costs.toml``, with its comments (the documentation of every key)."""
    return resources.files("pollnet.plan").joinpath("costs.toml").read_text(encoding="utf-8")


def load_costs(path: Path | str | None = None) -> CostModel:
    """The default cost model, with the user file at ``path`` (if any) merged over it."""
    raw = tomllib.loads(default_costs_text())
    if path is not None:
        source = str(path)
        try:
            with Path(path).open("rb") as fh:
                user = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError.of("cost model file not found", file=source) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError.of(
                "not a valid TOML file: {reason}", file=source, reason=str(exc)
            ) from None
        raw = _merge(raw, user, source, ())
    _check(raw, "costs.toml" if path is None else str(path))
    return CostModel(raw)


def _merge(
    base: dict[str, Any], user: Mapping[str, Any], source: str, where: tuple[str, ...]
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in user.items():
        name = ".".join((*where, key))
        if isinstance(value, Mapping):
            below = base.get(key, {})
            if not isinstance(below, dict):
                raise ConfigError.of("{key} must be a number, not a table", file=source, key=name)
            merged[key] = _merge(below, value, source, (*where, key))
        elif where == () and key not in base:
            raise ConfigError.of("unknown cost model key: {key}", file=source, key=name)
        else:
            merged[key] = value
    return merged


def _check(raw: Mapping[str, Any], source: str, where: tuple[str, ...] = ()) -> None:
    for key, value in raw.items():
        name = ".".join((*where, key))
        if isinstance(value, Mapping):
            _check(value, source, (*where, key))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError.of("{key} must be a number", file=source, key=name)
        elif not math.isfinite(value) or value < 0:
            raise ConfigError.of(
                "{key} must be a number not below zero, not {value}",
                file=source,
                key=name,
                value=value,
            )
    if not where:
        cables = raw.get("cable", {})
        missing = [str(c) for c in CORE_SIZES if str(c) not in cables]
        if missing:
            raise ConfigError.of(
                "the cost model has no cable price for {cores} cores",
                file=source,
                cores=", ".join(missing),
            )
        if float(raw.get("usd_rate", 0)) <= 0:
            raise ConfigError.of("usd_rate must be above zero", file=source)
