"""The database tables, one module per area, sharing one :data:`metadata`.

Importing this package registers every table (the store needs them all to migrate and query).
"""

from pollnet.store.schema import areas, core, link, plan, rollout, tlog, users
from pollnet.store.schema.base import metadata

__all__ = ["areas", "core", "link", "metadata", "plan", "rollout", "tlog", "users"]
