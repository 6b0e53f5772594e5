"""Site review for the education districts: what each polling station costs in the plan, its LTE
backup and distance to fibre, and the candidate buildings nearby that would cost less.

>>> found = review(engine, settings, candidates="schools.csv")  # doctest: +SKIP
>>> found.stations[0].cheaper                                      # doctest: +SKIP

:func:`review_sites` is the pure core (registry records, a :class:`Pricing` and candidates in,
a :class:`SiteReview` out); :func:`review` reads the inputs from the store and prices them on
the plan with :mod:`pollnet.plan.whatif`.
"""

from pollnet.sites.review import (
    COST_CLASSES,
    DEFAULT_RADIUS_M,
    CheaperSite,
    Pricing,
    SiteReview,
    StationReview,
    fibre_distances,
    review_sites,
)
from pollnet.sites.run import PlanPricing, review, site_layer, write_review_map
from pollnet.sites.sheets import write_district_books

__all__ = [
    "COST_CLASSES",
    "DEFAULT_RADIUS_M",
    "CheaperSite",
    "PlanPricing",
    "Pricing",
    "SiteReview",
    "StationReview",
    "fibre_distances",
    "review",
    "review_sites",
    "site_layer",
    "write_district_books",
    "write_review_map",
]
