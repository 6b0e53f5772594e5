"""LTE backup coverage: which mobile operators' towers reach each polling station, and how well.

``lte_backup(stations, towers)`` estimates it from tower positions (3GPP urban-macro path
loss, :mod:`pollnet.coverage.pathloss`); ``by_district`` counts the classes; ``read_towers``
reads the registry's towers. ``pollnet coverage`` is the command line view.
"""

from pollnet.coverage.backup import (
    STATUSES,
    DistrictBackup,
    RadioSettings,
    Serving,
    StationBackup,
    by_district,
    lte_backup,
    write_backup_csv,
)
from pollnet.coverage.store import read_towers

__all__ = [
    "STATUSES",
    "DistrictBackup",
    "RadioSettings",
    "Serving",
    "StationBackup",
    "by_district",
    "lte_backup",
    "read_towers",
    "write_backup_csv",
]
