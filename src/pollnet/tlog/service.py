"""The log beside the check-in service: the writer's appender, the publisher, the public port."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from pollnet.errors import UserError
from pollnet.tlog import store
from pollnet.tlog.config import TlogSettings
from pollnet.tlog.http import RunningPublic, start_public
from pollnet.tlog.policy import read_policy
from pollnet.tlog.publisher import LogTampered, Publisher
from pollnet.tlog.tiles import tile_path, tiles_for
from pollnet.tlog.witness import http_cosigner


@dataclass
class Transparency:
    """The transparency log of one election, running beside its service."""

    outcome_log: store.LedgerLog
    publisher: Publisher
    public: RunningPublic | None = field(default=None)

    def start(self, host: str, port: int) -> str:
        """Start signing checkpoints and serve the public API; returns its URL.

        A log whose entries no longer lead to its signed checkpoints is refused (a user error
        that names the first problem): the database was edited, rows deleted or reordered.
        """
        try:
            self.publisher.start()
        except LogTampered as exc:
            raise UserError.of(
                "the log does not match its signed checkpoints: {reason}", reason=str(exc)
            ) from None
        self.public = start_public(self.publisher, host, port)
        return self.public.url

    def stop(self) -> None:
        """Stop serving; the publisher signs what was committed last."""
        if self.public is not None:
            self.public.stop()
            self.public = None
        self.publisher.stop()


def open_transparency(engine: Engine, config: TlogSettings, election: str) -> Transparency | None:
    """The log of ``election`` when its keys exist in ``config.key_dir`` (else None: no log)."""
    if not (config.key_dir / store.LOG_KEY).is_file():
        return None
    keys = store.read_keys(config.key_dir)
    if keys.publication_key is None:
        raise UserError.of(
            "the log's publication key in {folder} was destroyed: the log is closed and takes"
            " no more entries",
            file=str(config.key_dir),
            folder=str(config.key_dir),
        )
    publisher = Publisher(engine, keys.signer, interval_s=config.interval_s, mldsa=keys.mldsa)
    if config.policy is not None:
        policy = read_policy(config.policy)
        publisher.cosigners = {
            name: http_cosigner(w.url) for name, w in policy.witnesses.items() if w.url
        }
    return Transparency(store.LedgerLog(election, keys.publication_key), publisher)


def export(publisher: Publisher, folder: Path) -> int:
    """Write the latest checkpoint, its tiles and entry bundles under ``folder`` as static files
    laid out like the public API; returns how many files were written."""
    note = publisher.checkpoint()
    if note is None:
        raise UserError.of("the log has no signed checkpoint yet; nothing to export")
    size = publisher.size
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for level, n, width in tiles_for(size):
        _write(folder / tile_path(level, n, width), publisher.tile(level, n, width))
        written += 1
        if level == 0:
            _write(folder / tile_path("entries", n, width), publisher.entry_bundle(n, width))
            written += 1
    (folder / "checkpoint").write_text(note, encoding="utf-8")  # last: it names the tiles
    return written + 1


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
