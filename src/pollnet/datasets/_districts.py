"""The 22 municipal districts of the synthetic city: a Voronoi partition laid out like Tehran's.

Seeds sit where Tehran's districts roughly sit (1 in the north-east, 22 in the north-west,
12 in the centre, 20 in the south-east), jittered per seed; borders are gently bent.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

DISTRICTS = 22

# (district, east-west, south-north) in normalised city coordinates, both in [-1, 1].
_LAYOUT: tuple[tuple[int, float, float], ...] = (
    (22, -0.85, 0.55),
    (5, -0.5, 0.6),
    (2, -0.15, 0.6),
    (3, 0.15, 0.6),
    (1, 0.45, 0.6),
    (4, 0.8, 0.5),
    (21, -0.85, 0.1),
    (9, -0.5, 0.15),
    (6, -0.05, 0.2),
    (7, 0.25, 0.2),
    (8, 0.55, 0.2),
    (13, 0.85, 0.05),
    (10, -0.3, -0.15),
    (11, -0.05, -0.15),
    (12, 0.2, -0.15),
    (14, 0.5, -0.2),
    (18, -0.7, -0.5),
    (19, -0.4, -0.6),
    (17, -0.2, -0.45),
    (16, 0.05, -0.55),
    (20, 0.35, -0.6),
    (15, 0.7, -0.5),
)


class Partition:
    """Which district a point of the city lies in."""

    def __init__(self, rng: np.random.Generator) -> None:
        layout = np.array(_LAYOUT)
        self.number = layout[:, 0].astype(np.int8)
        self.seed_u = layout[:, 1] + rng.uniform(-0.06, 0.06, size=len(layout))
        self.seed_v = layout[:, 2] + rng.uniform(-0.06, 0.06, size=len(layout))
        self.bend = rng.uniform(0, 2 * np.pi, size=2)

    def district(self, u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.int8]:
        """The district (1..22) at normalised coordinates ``u`` (east) and ``v`` (north)."""
        bu = u + 0.04 * np.sin(5 * v + self.bend[0])
        bv = v + 0.04 * np.sin(4 * u + self.bend[1])
        best = np.full(u.shape, np.inf)
        result = np.zeros(u.shape, dtype=np.int8)
        for k in range(self.number.size):
            d = (bu - self.seed_u[k]) ** 2 + (bv - self.seed_v[k]) ** 2
            closer = d < best
            best = np.where(closer, d, best)
            result = np.where(closer, self.number[k], result)
        return result
