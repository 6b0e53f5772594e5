"""Tables of the check-in transparency log (see :mod:`pollnet.tlog`).

``tlog_entries`` holds the log's leaves in order, written by the ledger's writer in the same
transaction as the outcome they record; ``tlog_checkpoints`` every checkpoint the log signed,
persisted before it is served (with the witnesses' cosignatures once collected). No table holds
a raw national code or the ledger's voter hash: an entry carries a hash made with the separate
publication key.
"""

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, Table, Text

from pollnet.store.schema.base import metadata

tlog_entries = Table(
    "tlog_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    # The checkpoint as the log signed it, and with the witnesses' cosignatures added.
    Column("note", Text, nullable=False),
    Column("cosigned", Text, nullable=True),
)
