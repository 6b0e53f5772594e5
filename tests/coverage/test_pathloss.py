"""The 3GPP TR 38.901 urban-macro path loss against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pollnet.coverage.pathloss import breakpoint_m, uma_los_db, uma_nlos_db


def test_values_worked_by_hand() -> None:
    # h_BS 25 m, h_UT 1.5 m, 1.8 GHz. d'_BP = 4 * 24 * 0.5 * 1.8e9 / 299,792,458 = 288.19 m.
    assert float(breakpoint_m(25.0, 1.5, 1.8)) == pytest.approx(288.19, abs=0.01)
    # 100 m (inside the breakpoint): d3D = sqrt(100^2 + 23.5^2) = 102.724 m;
    # LOS = 28 + 22 log10(102.724) + 20 log10(1.8) = 28 + 44.257 + 5.105 = 77.36 dB.
    assert float(uma_los_db(100.0, 25.0, 1.5, 1.8)) == pytest.approx(77.36, abs=0.01)
    # 500 m: d3D = 500.552 m, log10 = 2.69945.
    # LOS beyond the breakpoint = 28 + 40 * 2.69945 + 5.105 - 9 log10(288.19^2 + 23.5^2)
    #                           = 28 + 107.978 + 5.105 - 44.302 = 96.78 dB;
    # NLOS' = 13.54 + 39.08 * 2.69945 + 5.105 = 124.14 dB, the larger of the two.
    assert float(uma_los_db(500.0, 25.0, 1.5, 1.8)) == pytest.approx(96.78, abs=0.01)
    assert float(uma_nlos_db(500.0, 25.0, 1.5, 1.8)) == pytest.approx(124.14, abs=0.01)


def test_shape_of_the_model() -> None:
    d = np.array([10.0, 50.0, 200.0, 1000.0, 5000.0])
    nlos = uma_nlos_db(d, 30.0, 1.5, 1.8)
    assert np.all(np.diff(nlos) > 0)  # farther is weaker
    assert np.all(nlos >= uma_los_db(d, 30.0, 1.5, 1.8))  # NLOS never beats LOS
    # the frequency term: twice the carrier costs 20 log10(2) = 6.02 dB more
    assert np.allclose(uma_nlos_db(d, 30.0, 1.5, 3.6) - nlos, 6.0206, atol=1e-3)
    # the LOS pieces meet at the breakpoint
    bp = float(breakpoint_m(30.0, 1.5, 1.8))
    assert float(uma_los_db(bp - 1e-6, 30.0, 1.5, 1.8)) == pytest.approx(
        float(uma_los_db(bp + 1e-6, 30.0, 1.5, 1.8)), abs=1e-4
    )
    # nearer than 10 m counts as 10 m (the model's limit)
    assert float(uma_nlos_db(0.0, 30.0, 1.5, 1.8)) == float(uma_nlos_db(10.0, 30.0, 1.5, 1.8))
    # a higher device loses 0.6 dB less per metre in NLOS
    assert float(uma_nlos_db(1000.0, 30.0, 2.5, 1.8)) < float(uma_nlos_db(1000.0, 30.0, 1.5, 1.8))
