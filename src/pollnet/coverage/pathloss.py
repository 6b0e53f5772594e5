"""Path loss from a macro cell to a device: 3GPP TR 38.901 (v17) urban macro, "UMa", in dB.

The model of table 7.4.1-1 for a street-level macro cell in a dense city: line of sight up to
the breakpoint distance and beyond it, and the non-line-of-sight model, which is never below the
line-of-sight one. Distances are metres, heights metres above ground, the carrier in GHz. The
model holds for 10 m to 5 km; nearer distances are read as 10 m.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

SPEED_OF_LIGHT = 299_792_458.0  # m/s
ENVIRONMENT_HEIGHT_M = 1.0  # h_E of the breakpoint distance (the UMa value for low devices)
MIN_DISTANCE_M = 10.0


def breakpoint_m(h_bs: ArrayLike, h_ut: ArrayLike, fc_ghz: float) -> FloatArray:
    """The breakpoint distance d'_BP = 4 h'_BS h'_UT f_c / c, in metres."""
    h1 = np.asarray(h_bs, dtype=np.float64) - ENVIRONMENT_HEIGHT_M
    h2 = np.asarray(h_ut, dtype=np.float64) - ENVIRONMENT_HEIGHT_M
    return np.asarray(4.0 * h1 * h2 * fc_ghz * 1e9 / SPEED_OF_LIGHT, dtype=np.float64)


def uma_los_db(d2d_m: ArrayLike, h_bs: ArrayLike, h_ut: ArrayLike, fc_ghz: float) -> FloatArray:
    """Line-of-sight UMa path loss (PL_UMa-LOS)."""
    d2d = np.maximum(np.asarray(d2d_m, dtype=np.float64), MIN_DISTANCE_M)
    h_bs = np.asarray(h_bs, dtype=np.float64)
    h_ut = np.asarray(h_ut, dtype=np.float64)
    d3d = np.hypot(d2d, h_bs - h_ut)
    d_bp = breakpoint_m(h_bs, h_ut, fc_ghz)
    near = 28.0 + 22.0 * np.log10(d3d) + 20.0 * np.log10(fc_ghz)
    far = (
        28.0
        + 40.0 * np.log10(d3d)
        + 20.0 * np.log10(fc_ghz)
        - 9.0 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    )
    return np.asarray(np.where(d2d <= d_bp, near, far), dtype=np.float64)


def uma_nlos_db(d2d_m: ArrayLike, h_bs: ArrayLike, h_ut: ArrayLike, fc_ghz: float) -> FloatArray:
    """Non-line-of-sight UMa path loss: max(PL_UMa-LOS, PL'_UMa-NLOS)."""
    d2d = np.maximum(np.asarray(d2d_m, dtype=np.float64), MIN_DISTANCE_M)
    h_ut = np.asarray(h_ut, dtype=np.float64)
    d3d = np.hypot(d2d, np.asarray(h_bs, dtype=np.float64) - h_ut)
    nlos = 13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(fc_ghz) - 0.6 * (h_ut - 1.5)
    return np.asarray(np.maximum(uma_los_db(d2d, h_bs, h_ut, fc_ghz), nlos), dtype=np.float64)
