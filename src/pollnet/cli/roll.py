"""``pollnet roll``: load the voter roll (only keyed hashes of national codes are stored)."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from pollnet.cli._common import App, pass_app
from pollnet.cli.pki import PKI_DIR, pki_dir_of
from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import tr
from pollnet.link.ledger import load_roll
from pollnet.link.national_code import normalise_national_code
from pollnet.link.pki import read_ledger_key
from pollnet.link.service import link_settings

MAX_PROBLEMS = 20


@click.group()
def roll() -> None:
    """The voter roll of the election."""


@roll.command("load")
@PKI_DIR
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def load(app: App, pki_dir: Path | None, file: Path) -> None:
    """Load a CSV file with a national_code column into the roll (refused if any code is bad)."""
    codes = read_roll(file)
    key = read_ledger_key(pki_dir_of(app, pki_dir))
    added = load_roll(app.engine, link_settings(app.settings).policy.election, key, codes)
    click.echo(tr("{added} voters added to the roll ({total} read)", added=added, total=len(codes)))


def read_roll(file: Path) -> list[str]:
    """The national codes of a roll CSV (UTF-8, a ``national_code`` column), all of them valid."""
    with file.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.DictReader(fh)
        if rows.fieldnames is None or "national_code" not in rows.fieldnames:
            raise UserError.of("the roll needs a national_code column", file=str(file))
        codes, problems = [], []
        for number, row in enumerate(rows, start=1):
            code = normalise_national_code(row["national_code"] or "")
            if code is None:
                problems.append(
                    Problem(
                        "not a valid national code",
                        where=Location(str(file), number, "national_code"),
                    )
                )
            else:
                codes.append(code)
    if problems:
        raise UserError(problems[:MAX_PROBLEMS])
    return codes


COMMANDS = [roll]
