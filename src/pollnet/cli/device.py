"""``pollnet device run``: a device at a station, reading voters as JSON lines (see link.client)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import click

from pollnet.cli._common import App, Verbatim, echo_error, echo_json, pass_app
from pollnet.errors import UserError
from pollnet.i18n import current_language, format_date, format_number, gettext, localise_text, tr
from pollnet.link.client import POLICIES, CheckinResult, DeviceClient, Receipt, run_device
from pollnet.link.pki import queue_key
from pollnet.link.queue import DurableQueue

TEHRAN = ZoneInfo("Asia/Tehran")
SKEW_WARNING_S = 60.0  # the service refuses at 300 s by default

# The service's refusal reasons, as the service words them (same msgids).
REASONS = {
    "invalid_national_code": "the national code is not valid",
    "under_age": "the voter is under the minimum age on election day",
    "not_on_roll": "the voter is not on the roll",
    "verification_failed": "the card or the fingerprint did not verify",
    "clock_skew": "the device clock is too far from the service clock",
}


def bundle_option(help: str) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """``--bundle``: the device's bundle folder, which must exist (every ``device`` command)."""
    return click.option(
        "--bundle",
        "bundle_dir",
        required=True,
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help=help,
    )


def queue_option(*, exists: bool) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """``--queue``: the device's queue file instead of ``<bundle>/queue.db``; ``exists`` for the
    commands that only read one."""
    return click.option(
        "--queue",
        "queue_path",
        type=click.Path(dir_okay=False, exists=exists, path_type=Path),
        help="The device's queue file (default: <bundle>/queue.db).",
    )


def _queue_file(bundle_dir: Path, queue_path: Path | None) -> Path:
    """The queue file a command reads: ``--queue`` or the bundle's own, which must exist."""
    path = queue_path or bundle_dir / "queue.db"
    if not path.is_file():
        raise UserError.of("no queue file: the device took no check-in", file=str(path))
    return path


@click.group("device")
def device() -> None:
    """Run an identity-verification device (the client of the check-in service)."""


@device.command("run")
@bundle_option("The device bundle folder (pollnet devices enroll).")
@click.option(
    "--input",
    "source",
    type=click.File("r", encoding="utf-8"),
    default="-",
    help="JSON lines of voters (default: standard input).",
)
@click.option("--policy", type=click.Choice(POLICIES), help="When no link answers.")
@queue_option(exists=False)
@click.option(
    "--drain-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to send what was queued offline at the end of input.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer.")
@pass_app
def run(
    app: App,
    bundle_dir: Path,
    source: TextIO,
    policy: str | None,
    queue_path: Path | None,
    drain_timeout: float,
    as_json: bool,
) -> None:
    """Check voters in, one JSON object per line, printing each answer.

    A line holds national_code, birth_date (1370/01/15 or 1991-04-04), card_read and
    fingerprint_score. The device heartbeats meanwhile; at the end of input it sends what it
    queued offline (up to --drain-timeout seconds).
    """
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("pollnet.link.device").setLevel(logging.WARNING)
    section = app.settings.section("device")
    chosen = policy or str(section.get("policy", "refuse"))
    rows: dict[str, int] = {}  # idempotency key -> input row, for answers that come late

    def show(row: int, result: CheckinResult) -> None:
        if as_json:
            echo_json(_as_json(row, result))
        else:
            click.echo(_line(row, result))

    def on_event(kind: str, data: Mapping[str, Any]) -> None:
        if kind in ("replayed", "resolved"):
            show(rows.get(data["result"].idempotency_key, 0), data["result"])
        elif kind == "link" and not as_json:
            click.echo(tr("link: {link}", link=_link(data["to"])), err=True)
        elif kind == "heartbeat" and abs(data["result"].clock_skew_s) > SKEW_WARNING_S:
            seconds = format_number(round(data["result"].clock_skew_s))
            echo_error(tr("the device clock is {seconds} s off the service clock", seconds=seconds))

    def emit(row: int, result: CheckinResult | ValueError) -> None:
        if isinstance(result, ValueError):
            echo_error(tr("row {row}: not a voter line ({field})", row=row, field=str(result)))
        else:
            rows[result.idempotency_key] = row
            show(row, result)

    async def main() -> int:
        async with DeviceClient(
            bundle_dir, policy=chosen, queue=queue_path, on_event=on_event
        ) as client:
            return await run_device(client, source.readline, emit, drain_timeout_s=drain_timeout)

    if asyncio.run(main()):
        sys.exit(1)


@device.command("close-day")
@bundle_option("The device bundle folder.")
@queue_option(exists=True)
@pass_app
def close_day(app: App, bundle_dir: Path, queue_path: Path | None) -> None:
    """End the day on a device: drop the voter hashes of its local duplicate check.

    Check-ins still waiting to be sent keep theirs until they are sent.
    """
    path = _queue_file(bundle_dir, queue_path)
    with DurableQueue(path, queue_key(bundle_dir)) as queue:
        dropped = queue.close_day()
        waiting = queue.depth()
    click.echo(tr("day closed: {count} voter hashes erased", count=format_number(dropped)))
    if waiting:
        echo_error(
            tr(
                "{count} check-ins still wait to be sent: run the device again to send them",
                count=format_number(waiting),
            )
        )
        sys.exit(1)


@device.command("close-note")
@bundle_option("The device bundle folder.")
@click.option(
    "--voters", type=click.IntRange(min=0), required=True, help="The station's eligible voters."
)
@queue_option(exists=True)
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write it as a QR code (PNG or SVG).",
)
@pass_app
def close_note(
    app: App, bundle_dir: Path, voters: int, queue_path: Path | None, qr_path: Path | None
) -> None:
    """Sign the station closing note with the device's key (for observers at the door)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from pollnet.link.client import Bundle
    from pollnet.tlog import closing

    bundle = Bundle.load(bundle_dir)
    path = _queue_file(bundle_dir, queue_path)
    with DurableQueue(path, queue_key(bundle_dir)) as queue:
        note = closing.from_queue(queue.items(), bundle.station, bundle.serial, voters)
    key = serialization.load_pem_private_key((bundle_dir / "device.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signed = closing.sign(note, key)
    click.echo(signed, nl=False)
    if qr_path is not None:
        import segno

        segno.make(signed, error="m").save(str(qr_path), scale=4)


@device.command("receipt")
@bundle_option("The device bundle folder.")
@click.argument("indices", nargs=-1, type=click.IntRange(min=0))
@queue_option(exists=True)
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the receipt as a QR code (PNG or SVG; one log index).",
)
@pass_app
def receipt(
    app: App,
    bundle_dir: Path,
    indices: tuple[int, ...],
    queue_path: Path | None,
    qr_path: Path | None,
) -> None:
    """Fetch and keep the transparency log's receipts of this device's check-ins.

    Without INDICES, every accepted check-in of the device's queue whose receipt is not kept
    yet. Receipts go to <bundle>/receipts/<log index>.tlog-proof; observers check them with
    pollnet observe receipt.
    """
    from pollnet.link.client import RECEIPTS_DIR, Bundle, keep_receipt, logged_indices

    bundle = Bundle.load(bundle_dir)
    if not indices:
        path = _queue_file(bundle_dir, queue_path)
        with DurableQueue(path, queue_key(bundle_dir)) as queue:
            logged = logged_indices(queue.items())
        kept = bundle_dir / RECEIPTS_DIR
        indices = tuple(i for i in logged if not (kept / f"{i}.tlog-proof").is_file())
    if qr_path is not None and len(indices) != 1:
        raise UserError.of("--qr takes exactly one log index")

    async def fetch() -> list[Receipt]:
        async with DeviceClient(bundle, queue=queue_path) as client:
            return [await client.receipt(i) for i in indices]

    missing = 0
    for got in asyncio.run(fetch()) if indices else []:
        index = format_number(got.log_index)
        if got.status != "ok":
            missing += 1
            if got.status == "pending":
                echo_error(
                    tr(
                        "log entry {index} is not in a signed checkpoint yet;"
                        " ask again in a few seconds",
                        index=index,
                    )
                )
            elif got.status == "no_log":
                echo_error(tr("the service keeps no transparency log"))
            else:
                echo_error(tr("no link answers; log entry {index} was not fetched", index=index))
            continue
        kept_at = keep_receipt(bundle, got)
        click.echo(
            tr("receipt of log entry {index} kept in {file}", index=index, file=Verbatim(kept_at))
        )
        if qr_path is not None:
            import segno

            segno.make(got.for_qr(), error="l").save(str(qr_path), scale=2)
    if missing:
        sys.exit(1)


def _as_json(row: int, result: CheckinResult) -> dict[str, Any]:
    return {
        "row": row or None,
        "idempotency_key": result.idempotency_key,
        "outcome": result.outcome,
        "link": result.link,
        "status_code": result.status_code,
        "provisional": result.provisional,
        "replayed": result.replayed,
        "resolved": result.resolved,
        "answer": result.answer,
    }


LINK_LABELS: Mapping[str, str] = {"fiber": "fiber", "lte": "LTE"}
"""English msgids of the links a device uses."""


def _link(name: str | None) -> str:
    """A link's name in the active language; ``none`` when there is none."""
    return gettext(LINK_LABELS.get(name, name)) if name else gettext("none")


def _line(row: int, result: CheckinResult) -> str:
    where = tr("row {row}", row=row) if row else tr("queued {key}", key=result.idempotency_key)
    answer = result.answer or {}
    first = answer.get("first") or {}
    if result.outcome == "accepted":
        text = tr("accepted over {link}", link=_link(result.link))
    elif result.outcome == "provisional":
        text = tr("accepted provisionally: no link, it will be sent when one is back")
    elif result.outcome == "link_down":
        text = tr("no link to the service: refuse the voter for now")
    elif result.outcome == "unknown":
        text = tr(
            "ANSWER LOST: the check-in may be recorded; ask the voter to wait,"
            " the device is finding out"
        )
    elif result.outcome == "not_recorded":
        text = tr("the lost check-in was never recorded: check the voter in again")
    elif result.outcome == "local_duplicate":
        text = tr("refused: already checked in on this device")
    elif result.outcome == "duplicate":
        text = tr(
            "refused: already voted at station {station} at {at}",
            station=first.get("station", "?"),
            at=_when(first.get("at")),
        )
    elif result.outcome == "conflict":
        text = tr(
            "CONFLICT: accepted offline, but first recorded at station {station} at {at}",
            station=first.get("station", "?"),
            at=_when(first.get("at")),
        )
    else:
        reason = REASONS.get(result.outcome)
        text = tr("refused: {reason}", reason=tr(reason) if reason else result.outcome)
    if result.resolved and result.outcome != "not_recorded":
        text = tr("the lost answer was: {answer}", answer=text)
    return f"{where}: {text}"


def _when(text: Any) -> str:
    """A service time (ISO 8601) as Tehran local date and time in the active language."""
    try:
        moment = dt.datetime.fromisoformat(str(text)).astimezone(TEHRAN)
    except ValueError:
        return str(text)
    day = format_date(moment.date(), current_language())
    return f"{day} {localise_text(moment.strftime('%H:%M:%S'))}"


COMMANDS = [device]
