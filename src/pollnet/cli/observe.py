"""``pollnet observe``: check the check-in log from outside, with public keys only."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.i18n import current_language, format_moment, format_number, gettext, join_list, tr
from pollnet.tlog import observe as observer
from pollnet.tlog.config import tlog_settings
from pollnet.tlog.policy import read_policy

POLICY = click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The tlog-policy file: the log's key, the witnesses and the quorum.",
)


@click.group()
def observe() -> None:
    """Verify the check-in log as an observer: signatures, witnesses, counts, receipts."""


@observe.command("verify")
@click.option("--log", "url", required=True, help="The log's public URL (its prefix).")
@POLICY
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the last verified checkpoint is kept (default: settings [tlog] observer_dir).",
)
@click.option(
    "--stations",
    "stations_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=(
        "A station list with code and district columns (CSV, XLSX or GeoJSON, English or "
        "Persian headers, e.g. `stations export`), for counts per district."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def verify(
    app: App,
    url: str,
    policy_file: Path,
    state_dir: Path | None,
    stations_file: Path | None,
    as_json: bool,
) -> None:
    """Check the latest checkpoint, its witnesses, its consistency, and count the check-ins."""
    policy = read_policy(policy_file)
    districts = observer.read_districts(stations_file) if stations_file else None
    folder = state_dir or tlog_settings(app.settings).observer_dir
    with observer.HttpFetch(url) as fetch:
        report = observer.verify(fetch, policy, folder)
    counts = report.counts
    per_district = observer.by_district(counts.stations, districts) if districts else {}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "origin": report.origin,
                    "size": report.size,
                    "previous_size": report.previous_size,
                    "witnesses": list(report.witnesses),
                    "stations": dict(sorted(counts.stations.items())),
                    "districts": dict(sorted(per_district.items())),
                    "refused_duplicates": counts.duplicates,
                    "conflicts": counts.conflicts,
                    "accepted_twice": counts.accepted_twice,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        tr(
            "log {origin}: {size} entries verified (consistent with the {old} seen before),"
            " cosigned by {witnesses}",
            origin=Verbatim(report.origin),
            size=format_number(report.size),
            old=format_number(report.previous_size),
            witnesses=Verbatim(join_list(report.witnesses) or "-"),
        )
    )
    for station, count in sorted(counts.stations.items()):
        click.echo(
            tr(
                "station {station}: {count} check-ins",
                station=Verbatim(station),
                count=format_number(count),
            )
        )
    for district, count in sorted(per_district.items()):
        click.echo(
            tr(
                "district {district}: {count} check-ins",
                district=format_number(int(district)) if district.isdigit() else Verbatim(district),
                count=format_number(count),
            )
        )
    click.echo(
        tr(
            "refused as duplicates: {duplicates}; conflicts: {conflicts};"
            " voters accepted twice: {twice}",
            duplicates=format_number(counts.duplicates),
            conflicts=format_number(counts.conflicts),
            twice=format_number(len(counts.accepted_twice)),
        )
    )
    for item in counts.accepted_twice:
        click.echo(
            tr(
                "accepted twice: entry {index} at station {station}",
                index=format_number(int(str(item["index"]))),
                station=Verbatim(item["station"]),
            )
        )


@observe.command("receipt")
@click.argument("receipt_file", type=click.Path(dir_okay=False, path_type=Path))
@POLICY
@pass_app
def receipt(app: App, receipt_file: Path, policy_file: Path) -> None:
    """Verify a check-in receipt (tlog-proof) offline."""
    report = observer.verify_receipt(
        receipt_file.read_text(encoding="utf-8"), read_policy(policy_file)
    )
    entry = report.entry
    click.echo(
        tr(
            "receipt verified: entry {index} of {size}, {outcome} at station {station}, device"
            " {device}, {at}",
            index=format_number(report.index),
            size=format_number(report.quorum.signed.checkpoint.size),
            outcome=_outcome(entry.outcome),
            station=Verbatim(entry.station),
            device=Verbatim(entry.device),
            at=format_moment(entry.at, current_language(), seconds=True),
        )
    )


@observe.command("audit")
@click.option("--log", "url", required=True, help="The log's public URL (its prefix).")
@POLICY
@pass_app
def audit(app: App, url: str, policy_file: Path) -> None:
    """Re-hash every entry of the log against its signed root."""
    with observer.HttpFetch(url) as fetch:
        report = observer.audit(fetch, read_policy(policy_file))
    click.echo(
        tr(
            "audit passed: the {entries} entries of {origin} hash to its signed root, and its"
            " {tiles} hash tiles above level 0 hold their hashes",
            entries=format_number(report.entries),
            tiles=format_number(report.tiles),
            origin=Verbatim(report.origin),
        )
    )


@observe.command("station-note")
@click.argument("note_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cert",
    "cert_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The device's certificate (device.crt).",
)
@click.option(
    "--ca",
    "ca_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The election's CA certificate (ca.pem).",
)
@click.option("--log", "url", help="The log's public URL, to compare the note with the log.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The tlog-policy file (with --log).",
)
@pass_app
def station_note(
    app: App,
    note_file: Path,
    cert_file: Path,
    ca_file: Path,
    url: str | None,
    policy_file: Path | None,
) -> None:
    """Verify a station closing note signed by a device, and compare it with the log."""
    from cryptography import x509

    from pollnet.errors import Location, Problem, UserError
    from pollnet.tlog import closing
    from pollnet.tlog.note import NoteError

    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        ca = x509.load_pem_x509_certificates(ca_file.read_bytes())
        note = closing.open_signed(note_file.read_text(encoding="utf-8"), certificate, ca)
    except (OSError, ValueError) as exc:
        raise UserError.of(
            "the closing note does not verify: {reason}", file=str(note_file), reason=str(exc)
        ) from None
    except NoteError as exc:
        raise UserError.of(
            "the closing note does not verify: {reason}", file=str(note_file), reason=str(exc)
        ) from None
    click.echo(
        tr(
            "closing note of device {device} at station {station} verified: {checkins} check-ins,"
            " {conflicts} conflicts of {eligible} eligible voters",
            device=Verbatim(note.device),
            station=Verbatim(note.station),
            checkins=format_number(note.checkins),
            conflicts=format_number(note.conflicts),
            eligible=format_number(note.eligible),
        )
    )
    if url is None or note.first_index is None or note.last_index is None:
        return
    if policy_file is None:
        raise UserError.of("--log needs --policy", column="--policy")
    policy = read_policy(policy_file)
    with observer.HttpFetch(url) as fetch:
        quorum = observer.check_checkpoint(fetch("checkpoint"), policy)
        if note.last_index >= quorum.signed.checkpoint.size:
            raise UserError.of(
                "entry {index} is not in a signed checkpoint yet",
                index=format_number(note.last_index),
            )
        logged = [
            (i, e)
            for first, items in observer.read_bundles(fetch, note.first_index, note.last_index + 1)
            for i, e in enumerate(items, start=first)
            if i >= note.first_index
        ]
    differences = closing.compare(note, logged)
    if differences:
        raise UserError(
            [
                Problem(
                    "{what}: the log holds {log}, the note says {note}",
                    {"what": what, "log": in_log, "note": in_note},
                    Location(file=str(note_file)),
                )
                for what, (in_log, in_note) in differences.items()
            ]
        )
    click.echo(tr("the log agrees with the note"))


COMMANDS = [observe]


def _outcome(outcome: str) -> str:
    """A log entry's outcome as people read it."""
    labels = {
        "accepted": gettext("accepted"),
        "accepted_offline": gettext("accepted offline"),
        "duplicate": gettext("refused as a duplicate"),
        "conflict": gettext("conflict"),
    }
    return labels.get(outcome, outcome)
