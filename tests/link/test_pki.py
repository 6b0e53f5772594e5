"""The device PKI: files and permissions, what a device certificate says, revocation."""

from __future__ import annotations

import datetime as dt
import stat
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from pollnet.errors import NotFoundError, UserError
from pollnet.link import pki


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return pki.init_pki(tmp_path / "pki", election_date=dt.date(2028, 2, 25))


def test_init_writes_keys_readable_by_the_owner_only(folder: Path) -> None:
    paths = pki.pki_paths(folder)
    for role in ("root_key", "issuing_key", "ledger_key"):
        assert _mode(paths[role]) == 0o600, role
    chain = x509.load_pem_x509_certificates(paths["chain"].read_bytes())
    assert [c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in chain] == [
        "pollnet election root CA",
        "pollnet election issuing CA",
    ]
    assert chain[1].issuer == chain[0].subject
    assert pki.revoked_serials(folder) == frozenset()
    with pytest.raises(UserError):
        pki.init_pki(folder)


def test_device_certificate_names_device_and_station(folder: Path, tmp_path: Path) -> None:
    out = pki.enroll_device(
        folder,
        "ST-0042",
        "SN-77",
        tmp_path / "bundle",
        endpoints={"fiber": "https://127.0.0.1:9443", "lte": "https://10.0.0.1:9443"},
    )
    assert _mode(out / "device.key") == 0o600
    cert = x509.load_pem_x509_certificate((out / "device.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SN-77"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "pollnet"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.UniformResourceIdentifier)) == {
        "urn:pollnet:device:SN-77",
        "urn:pollnet:station:ST-0042",
    }
    assert pki.identity_of(cert).station == "ST-0042"
    # Bounded to the election period: election day -30 days .. +7 days (whole days, UTC).
    assert cert.not_valid_after_utc == dt.datetime(2028, 3, 4, tzinfo=dt.UTC)
    assert cert.not_valid_before_utc <= dt.datetime(2028, 1, 26, tzinfo=dt.UTC)
    bundle = tomllib.loads((out / "bundle.toml").read_text())
    assert bundle["serial"] == "SN-77" and bundle["station"] == "ST-0042"
    assert bundle["endpoints"] == {
        "fiber": "https://127.0.0.1:9443",
        "lte": "https://10.0.0.1:9443",
    }
    assert bundle["heartbeat_seconds"] == 30
    assert (out / "ca.pem").read_bytes() == pki.pki_paths(folder)["chain"].read_bytes()
    # The issuing CA really signed it.
    issuing = x509.load_pem_x509_certificate(pki.pki_paths(folder)["issuing_crt"].read_bytes())
    cert.verify_directly_issued_by(issuing)


def test_revoke_puts_the_certificate_on_the_crl(folder: Path) -> None:
    pki.enroll_device(folder, "ST-1", "A")
    pki.enroll_device(folder, "ST-1", "B")
    number = pki.revoke(folder, "A")
    assert pki.revoked_serials(folder) == {number}
    assert pki.revoke(folder, "A") == number  # twice is harmless
    assert {(d.serial, d.revoked) for d in pki.list_devices(folder)} == {("A", True), ("B", False)}
    with pytest.raises(NotFoundError):
        pki.revoke(folder, "nobody")


def test_revocation_list_rereads_the_crl_when_it_changes(folder: Path) -> None:
    pki.enroll_device(folder, "ST-1", "A")
    revocations = pki.RevocationList(folder, check_every_s=0.0)
    number = pki.list_devices(folder)[0].cert_serial
    assert not revocations.is_revoked(number, 1.0)
    pki.revoke(folder, "A")
    assert revocations.is_revoked(number, 2.0)


def test_server_certificate_and_context(folder: Path) -> None:
    with pytest.raises(UserError):
        pki.server_ssl_context(folder)
    crt = pki.issue_server_cert(folder, ["127.0.0.1", "link.example"])
    assert _mode(pki.pki_paths(folder)["server_key"]) == 0o600
    cert = x509.load_pem_x509_certificates(crt.read_bytes())[0]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["link.example"]
    ctx = pki.server_ssl_context(folder)
    assert ctx.verify_mode.name == "CERT_REQUIRED"


@pytest.mark.parametrize("bad", ["", "a/b", " x", 'q"'])
def test_unusable_serials_are_refused(folder: Path, bad: str) -> None:
    with pytest.raises(UserError):
        pki.enroll_device(folder, "ST-1", bad)


def test_the_command_line_mirrors_the_library(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from pollnet.cli import cli
    from tests.registry.stationfiles import GOOD, write_csv

    folder = tmp_path / "pki"
    db = f"sqlite:///{tmp_path / 'pollnet.db'}"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--lang", "en", "--db", db, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    rows = [["ST-1", *GOOD[0][1:]], ["ST-2", *GOOD[1][1:]]]
    run("stations", "import", str(write_csv(tmp_path / "stations.csv", rows)))
    assert "PKI created" in run("pki", "init", "--dir", str(folder))
    run("pki", "server-cert", "--dir", str(folder))
    run(
        "devices",
        "enroll",
        "--dir",
        str(folder),
        "--station",
        "ST-1",
        "--serial",
        "SN-1",
        "--fiber",
        "https://127.0.0.1:8443",
    )
    run("devices", "enroll", "--dir", str(folder), "--station", "ST-2", "--serial", "SN-2")
    assert "device SN-1 revoked" in run("devices", "revoke", "--dir", str(folder), "SN-1")
    listed = json.loads(run("devices", "list", "--dir", str(folder), "--json"))
    assert [(d["serial"], d["station"], d["revoked"]) for d in listed] == [
        ("SN-1", "ST-1", True),
        ("SN-2", "ST-2", False),
    ]
    persian = runner.invoke(
        cli, ["--lang", "fa", "--db", db, "devices", "list", "--dir", str(folder)]
    )
    assert "باطل‌شده" in persian.output and "SN-1" in persian.output
    missing = runner.invoke(
        cli, ["--lang", "en", "--db", db, "devices", "revoke", "--dir", str(folder), "SN-9"]
    )
    assert missing.exit_code == 1


def test_enrolling_refuses_an_unknown_station_and_a_second_serial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pollnet.cli import main
    from tests.registry.stationfiles import GOOD, write_csv

    folder = tmp_path / "pki"
    db = f"sqlite:///{tmp_path / 'pollnet.db'}"

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as done:
            main(["--lang", "en", "--db", db, *args])
        return int(done.value.code or 0), capsys.readouterr().err

    run("stations", "import", str(write_csv(tmp_path / "stations.csv", GOOD)))
    run("pki", "init", "--dir", str(folder))
    enroll = ("devices", "enroll", "--dir", str(folder), "--serial")
    code, output = run(*enroll, "SN-1", "--station", "T-404")
    assert code == 1 and output == "error: no station with code T-404\n"
    assert not (folder / "devices" / "SN-1.crt").exists()
    assert run(*enroll, "SN-1", "--station", "T-001")[0] == 0
    first = (folder / "devices" / "SN-1.crt").read_bytes()
    code, output = run(*enroll, "SN-1", "--station", "T-002")
    assert code == 1 and "device SN-1 is already enrolled for station T-001" in output
    assert (folder / "devices" / "SN-1.crt").read_bytes() == first  # nothing changed
    assert run(*enroll, "SN-1", "--station", "T-002", "--reissue")[0] == 0
    old = x509.load_pem_x509_certificate(first)
    assert old.serial_number in pki.revoked_serials(folder)  # the lost bundle stops working
    (device,) = pki.list_devices(folder)
    assert device.station == "T-002" and not device.revoked


def test_validity_from_the_link_settings(tmp_path: Path) -> None:
    from pollnet.link.service import link_settings
    from pollnet.settings import Settings

    settings = Settings(
        sections={
            "link": {"valid_from": dt.date(2028, 2, 1), "valid_until": "2028-03-01T00:00:00Z"}
        }
    )
    config = link_settings(settings)
    assert config.valid_from == dt.datetime(2028, 2, 1, tzinfo=dt.UTC)
    folder = pki.init_pki(
        tmp_path / "pki", valid_from=config.valid_from, valid_until=config.valid_until
    )
    out = pki.enroll_device(folder, "ST-1", "A")
    cert = x509.load_pem_x509_certificate((out / "device.crt").read_bytes())
    assert cert.not_valid_before_utc == dt.datetime(2028, 2, 1, tzinfo=dt.UTC)
    assert cert.not_valid_after_utc == dt.datetime(2028, 3, 1, tzinfo=dt.UTC)
    with pytest.raises(UserError):
        link_settings(Settings(sections={"link": {"valid_from": "soon"}}))


def test_a_missing_pki_points_at_the_one_the_user_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pki init --dir pki/`` then a command without ``--dir``: the hint names ``pki``, not
    ``pki init`` again."""
    from pollnet.cli import main
    from tests.registry.stationfiles import write_csv

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as done:
            main(["--lang", "en", *args])
        _, err = capsys.readouterr()
        return int(done.value.code or 0), err

    default = Path("pollnet-data") / "pki"
    code, err = run("pki", "server-cert")
    assert code == 1 and err.splitlines() == [
        f"error: no PKI in {default}: create one there with pollnet pki init, or pass the "
        "folder that holds one with --dir (or pki_dir under [link] in pollnet.toml)"
    ]
    assert run("stations", "import", str(write_csv(tmp_path / "s.csv")))[0] == 0
    assert run("pki", "init", "--dir", "pki/")[0] == 0
    for command in (
        ("pki", "server-cert"),
        ("devices", "enroll", "--station", "T-001", "--serial", "DV-1"),
        ("devices", "list"),
    ):
        code, err = run(*command)
        assert code == 1 and err.splitlines() == [
            f"error: no PKI in {default}, but pki holds one: pass --dir pki, or set "
            'pki_dir = "pki" under [link] in pollnet.toml'
        ], command
        assert "pki init" not in err
    # following the hint works
    assert run("pki", "server-cert", "--dir", "pki")[0] == 0
    Path("pollnet.toml").write_text('[link]\npki_dir = "pki"\n', encoding="utf-8")
    assert run("devices", "enroll", "--station", "T-001", "--serial", "DV-1")[0] == 0
    assert (tmp_path / "pki" / "bundles" / "DV-1" / "device.crt").is_file()
