"""The CLI frame: exit codes 0/1/2, translated one-line errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def pollnet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pollnet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "POLLNET_DB": f"sqlite:///{cwd / 'p.db'}"},
    )


def test_help_and_version(tmp_path: Path) -> None:
    result = pollnet("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "stations" in result.stdout and "demo" in result.stdout
    assert pollnet("--version", cwd=tmp_path).returncode == 0


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = pollnet("--lang", "de", "stations", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert pollnet("no-such-command", cwd=tmp_path).returncode == 2


def test_user_error_exits_1_with_one_translated_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pollnet]\nlang = 'de'\n", encoding="utf-8")
    result = pollnet("--config", str(bad), "--lang", "en", "stations", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {bad}: language must be fa or en, not de"
    persian = pollnet("--config", str(bad), "stations", "list", cwd=tmp_path)
    assert persian.returncode == 1
    assert persian.stderr.startswith("خطا: ")


def test_lazy_command_table_matches_the_modules() -> None:
    import importlib
    import pkgutil

    import pollnet.cli
    from pollnet.cli import LAZY_COMMANDS, cli

    from_modules = {}
    for info in pkgutil.iter_modules(pollnet.cli.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"pollnet.cli.{info.name}")
        for command in module.COMMANDS:
            from_modules[command.name] = f"{info.name}:{command.callback.__name__}"
    assert set(from_modules) == set(LAZY_COMMANDS)
    for name in LAZY_COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name


def test_help_speaks_the_chosen_language(tmp_path: Path) -> None:
    persian = pollnet("--lang", "fa", "--help", cwd=tmp_path)
    assert persian.returncode == 0
    assert persian.stdout.startswith("کاربرد: ")
    assert "گزینه‌ها:" in persian.stdout and "فرمان‌ها:" in persian.stdout
    commands = persian.stdout.split("فرمان‌ها:")[1].splitlines()
    summaries = [line.split(maxsplit=1)[1] for line in commands if line[2:3].isalpha()]
    assert summaries and all(not s.isascii() for s in summaries)  # every command in Persian
    assert "نمایش همین راهنما و خروج." in persian.stdout
    english = pollnet("--lang", "en", "--help", cwd=tmp_path)
    assert english.stdout.startswith("Usage: ") and "Show this message and exit." in english.stdout
    assert "Work orders of the four agencies." in english.stdout
    sub = pollnet("--lang", "fa", "work", "--help", cwd=tmp_path)
    assert sub.stdout.startswith("کاربرد: ") and "دستورهای کار چهار دستگاه." in sub.stdout


def test_an_option_error_names_the_option_not_a_column(tmp_path: Path) -> None:
    for lang, word in (("en", "option --today"), ("fa", "گزینه --today")):
        result = pollnet("--lang", lang, "schedule", "--today", "1402/13/01", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert word in result.stderr and ("column" not in result.stderr)
        assert "ستون" not in result.stderr


def _leaves(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    import click

    assert isinstance(command, click.Command)
    found: list[tuple[tuple[str, ...], object]] = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _leaves(sub, (*path, name))
    return found


def test_every_command_takes_the_global_options_after_its_name() -> None:
    from pollnet.cli import LAZY_COMMANDS, cli

    for name in LAZY_COMMANDS:
        for path, command in _leaves(cli.get_command(None, name), (name,)):  # type: ignore[arg-type]
            names = {opt for p in command.params for opt in p.opts}  # type: ignore[attr-defined]
            assert {"--db", "--lang", "--config"} <= names, " ".join(path)


def test_global_options_work_before_and_after_the_subcommand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from pollnet.cli import main
    from tests.registry.stationfiles import write_csv

    monkeypatch.chdir(tmp_path)
    for name in ("POLLNET_DB", "POLLNET_LANG", "POLLNET_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'after.db'}"

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return int(done.value.code or 0), out, err

    source = write_csv(tmp_path / "s.csv")
    code, out, _ = run("stations", "import", str(source), "--db", url, "--lang", "en")
    assert code == 0 and out.splitlines()[1] == "Stations: 3 added, 0 changed, 0 unchanged."
    # the same database, named after the subcommand, after a group's name, or before it all
    for args in (
        ("stations", "list", "--json", "--db", url),
        ("stations", "--db", url, "list", "--json"),
        ("--db", url, "stations", "list", "--json"),
    ):
        code, out, _ = run(*args)
        assert code == 0 and [s["code"] for s in json.loads(out)] == ["T-001", "T-002", "T-003"]
    # the option after the subcommand wins over the one before it
    code, out, _ = run("--lang", "fa", "stations", "list", "--db", url, "--lang", "en")
    assert code == 0 and "3 stations" in out
    code, out, _ = run("--lang", "en", "stations", "list", "--db", url, "--lang", "fa")
    assert code == 0 and "۳" in out
    # --config after the subcommand is read, and its errors are in the language given after it
    bad = tmp_path / "bad.toml"
    bad.write_text("[pollnet]\nlang = 'de'\n", encoding="utf-8")
    code, _, err = run("stations", "list", "--config", str(bad), "--lang", "en")
    assert code == 1 and err.strip() == f"error: {bad}: language must be fa or en, not de"
    # a wrong value after the subcommand is a usage error, as before it
    code, _, err = run("stations", "list", "--lang", "de")
    assert code == 2


def _help_texts() -> dict[str, str]:
    """Every text ``--help`` shows, anywhere in the command tree -> where it comes from."""
    import click

    from pollnet.cli import cli
    from pollnet.cli._help import first_sentence, paragraphs

    texts: dict[str, str] = {}
    ctx = click.Context(cli)

    def walk(command: click.Command, path: str) -> None:
        for part in paragraphs(command.help or ""):
            texts.setdefault(part, path)
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                texts.setdefault(" ".join(param.help.split()), f"{path} {param.opts[0]}")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                texts.setdefault(first_sentence(sub.help or ""), f"{path} {name}")
                walk(sub, f"{path} {name}")

    walk(cli, "pollnet")
    texts.pop("", None)
    return texts


def test_every_option_says_what_it_does() -> None:
    import click

    from pollnet.cli import cli

    ctx = click.Context(cli)
    silent: list[str] = []

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:
            builtin = {"--help", "--version"} & set(param.opts)
            if isinstance(param, click.Option) and not (param.help or param.hidden or builtin):
                silent.append(f"{path} {param.opts[0]}")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, f"{path} {name}")

    walk(cli, "pollnet")
    assert not silent, "options without help: " + ", ".join(silent)


def test_every_help_text_has_a_persian_translation() -> None:
    from pollnet.i18n import catalog

    fa = catalog("fa")
    missing = {text: where for text, where in _help_texts().items() if text not in fa}
    assert not missing, "help without Persian:\n" + "\n".join(
        f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda kv: kv[1])
    )


def test_a_subcommands_whole_help_is_persian(tmp_path: Path) -> None:
    result = pollnet("--lang", "fa", "audit", "--help", cwd=tmp_path)
    assert result.returncode == 0
    # every paragraph of the description and every option's help, not only the summary
    assert "بررسی دفتر ثبت" in result.stdout and "دفتر با سرِ امضاشده" in result.stdout
    assert "پوشهٔ PKI." in result.stdout
    assert "It is also checked" not in result.stdout and "PKI folder." not in result.stdout
    english = pollnet("audit", "--help", "--lang", "en", cwd=tmp_path)
    assert english.stdout.startswith("Usage: ") and "PKI folder." in english.stdout
