"""The telecom company's network as it stands: its exchanges and existing fiber, from its files.

Both imports keep the station registry's discipline (:mod:`pollnet.registry`): CSV, XLSX,
GeoJSON or GeoPackage with English or Persian headers, every bad row named by file, row and
column, all or nothing unless invalid rows are skipped into a rejects file, and re-imports that
update by code. The planner reads both tables (:func:`pollnet.plan.run`).

>>> report = import_exchanges(engine, "exchanges.csv", settings=settings)  # doctest: +SKIP
>>> report.added                                                           # doctest: +SKIP
"""

from pollnet.telecom._exchanges import (
    EXCHANGE_COLUMNS,
    ExchangeRecord,
    export_exchanges,
    get_exchange,
    import_exchanges,
    list_exchanges,
    read_exchanges,
    validate_exchanges,
)
from pollnet.telecom._fiber import (
    FIBER_COLUMNS,
    KINDS,
    FiberRecord,
    FiberReport,
    export_fiber,
    get_fiber,
    import_fiber,
    list_fiber,
    read_fiber,
    validate_fiber,
)

__all__ = [
    "EXCHANGE_COLUMNS",
    "FIBER_COLUMNS",
    "KINDS",
    "ExchangeRecord",
    "FiberRecord",
    "FiberReport",
    "export_exchanges",
    "export_fiber",
    "get_exchange",
    "get_fiber",
    "import_exchanges",
    "import_fiber",
    "list_exchanges",
    "list_fiber",
    "read_exchanges",
    "read_fiber",
    "validate_exchanges",
    "validate_fiber",
]
