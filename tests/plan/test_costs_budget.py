from pathlib import Path

import numpy as np
import pytest

from pollnet.errors import ConfigError
from pollnet.plan.budget import Optics, max_route_m, optical_budget
from pollnet.plan.costs import load_costs
from pollnet.plan.model import cores_for
from pollnet.plan.params import PlanParameters


def test_defaults_load_and_price_the_cheapest_allowed_method() -> None:
    costs = load_costs()
    assert costs.usd_rate > 0
    names = ("primary", "residential", "motorway")
    prices = costs.edge_prices(names, np.array([0, 1, 2]), np.array([100.0, 100.0, 100.0]))
    # primary: micro-trench (4.0M + 0.8M per metre + 30M permit) beats open trench
    assert prices.method(0) == "micro_trench"
    assert prices.civil_rial[0] == pytest.approx(100 * 4_800_000 + 30_000_000)
    assert prices.method(1) == "aerial"
    assert prices.method(2) == "open_trench"  # no micro-trench on motorways


def test_existing_fiber_needs_no_trench() -> None:
    costs = load_costs()
    prices = costs.edge_prices(
        ("primary",), np.array([0, 0]), np.array([50.0, 50.0]), np.array([False, True])
    )
    assert prices.method(1) == "existing_fiber"
    assert prices.civil_rial[1] == pytest.approx(50 * 50_000)
    assert prices.weight[1] < prices.weight[0] / 50


def test_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "costs.toml"
    path.write_text("usd_rate = 900000\n[trench.aerial]\nresidential = 99\n", encoding="utf-8")
    costs = load_costs(path)
    assert costs.usd_rate == 900000
    assert costs.rate("trench", "aerial", "residential") == 99
    assert costs.rate("trench", "open_trench", "primary") == 8_000_000


@pytest.mark.parametrize(
    "text", ["usd_rate = -1\n", "nonsense = 3\n", "[cable]\n12 = 'cheap'\n", "usd_rate = [\n"]
)
def test_bad_cost_files_are_user_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "costs.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_costs(path)


def test_budget_arithmetic() -> None:
    b = optical_budget(10_000.0, 5, 32)
    # 10 km x 0.35 + (5 + 2 end) x 0.1 + 4 x 0.5 + 17.1
    assert b.total_loss_db == pytest.approx(3.5 + 0.7 + 2.0 + 17.1)
    assert b.ok and b.headroom_db == pytest.approx(28 - 3 - 23.3)
    assert not optical_budget(20_000.0, 5, 32).ok
    assert optical_budget(20_000.0, 5, 16).ok
    reach = max_route_m(5, 32, Optics())
    assert optical_budget(reach - 1, 5, 32).ok and not optical_budget(reach + 1, 5, 32).ok


def test_core_sizes_follow_fibers_with_spare() -> None:
    assert [cores_for(f, 0.5) for f in (1, 8, 9, 16, 17, 40, 70, 96)] == [
        12,
        12,
        24,
        24,
        48,
        96,
        144,
        144,
    ]


def test_plan_settings_are_checked() -> None:
    assert (
        PlanParameters.from_mapping({"split": 16, "optics": {"gpon_class": "C+"}}).optics.budget_db
        == 32
    )
    for bad in (
        {"split": 3},
        {"colour": 1},
        {"optics": {"gpon_class": "Z"}},
        {"splitter_placement": "x"},
    ):
        with pytest.raises(ConfigError):
            PlanParameters.from_mapping(bad)
