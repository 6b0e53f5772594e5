"""The election's device PKI: a root CA, an issuing CA, device and server certificates, a CRL.

Every key is EC P-256 (fast to make: the simulator enrols hundreds of devices) and is written
with 0600 permissions; no key is ever logged. A PKI folder holds::

    root-ca.key  root-ca.crt        the election's root (offline in a real election)
    issuing-ca.key issuing-ca.crt   signs device and server certificates and the CRL
    ca.pem                          root + issuing CA: what devices and the service trust
    crl.pem                         the issuing CA's revocation list (the service enforces it)
    ledger.key                      the HMAC key that stands in for national codes (0600)
    server.key server.crt           the service's own certificate (+ issuing CA)
    head.key head.pub               signs the ledger's audit head (pollnet.link.anchor)
    devices/<serial>.crt            every device certificate issued, by device serial
    pki.toml                        the validity period of device certificates

A device certificate names the device serial as subject CN (O = ``pollnet``) and carries the
SAN URIs ``urn:pollnet:device:<serial>`` and ``urn:pollnet:station:<code>``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import ssl
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pollnet.errors import NotFoundError, UserError
from pollnet.model import is_code

ORGANISATION = "pollnet"
DEVICE_URN = "urn:pollnet:device:"
STATION_URN = "urn:pollnet:station:"
DEFAULT_HEARTBEAT_SECONDS = 30
_FILES = {
    "root_key": "root-ca.key",
    "root_crt": "root-ca.crt",
    "issuing_key": "issuing-ca.key",
    "issuing_crt": "issuing-ca.crt",
    "chain": "ca.pem",
    "crl": "crl.pem",
    "ledger_key": "ledger.key",
    "server_key": "server.key",
    "server_crt": "server.crt",
    "head_key": "head.key",
    "head_pub": "head.pub",
    "config": "pki.toml",
}


@dataclass(frozen=True)
class DeviceIdentity:
    """Who a client certificate speaks for: the device serial and its station code."""

    serial: str
    station: str
    cert_serial: int
    not_after: dt.datetime


@dataclass(frozen=True)
class DeviceRecord:
    """One issued device certificate, as ``pollnet devices list`` shows it."""

    serial: str
    station: str
    cert_serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    revoked: bool


def pki_paths(folder: Path) -> dict[str, Path]:
    """The files of a PKI folder by role (``root_key``, ``chain``, ``crl``, ``ledger_key``...)."""
    return {role: Path(folder) / name for role, name in _FILES.items()}


def no_pki(folder: Path, near: Path | None = None) -> UserError:
    """The error for a folder without a PKI, pointing at one nearby when there is one.

    A user who ran ``pollnet pki init --dir X`` and then a command without ``--dir`` is told where
    their PKI is (a folder up to two levels below ``near``, default the working folder) rather
    than sent back to ``pki init``.
    """
    base = Path.cwd() if near is None else near
    candidates = [base, *base.glob("*/"), *base.glob("*/*/")]
    found = sorted(
        c
        for c in candidates
        if pki_paths(c)["issuing_key"].is_file() and c.resolve() != Path(folder).resolve()
    )
    if found:
        other = os.path.relpath(found[0], base) if near is None else str(found[0])
        return UserError.of(
            "no PKI in {folder}, but {other} holds one: pass --dir {other}, or set "
            'pki_dir = "{other}" under [link] in pollnet.toml',
            folder=str(folder),
            other=other,
        )
    return UserError.of(
        "no PKI in {folder}: create one there with pollnet pki init, or pass the folder that "
        "holds one with --dir (or pki_dir under [link] in pollnet.toml)",
        folder=str(folder),
    )


def default_validity(election_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Election day −30 days .. +7 days (UTC), starting no later than now for rehearsals."""
    start = dt.datetime.combine(election_date - dt.timedelta(days=30), dt.time(), dt.UTC)
    end = dt.datetime.combine(election_date + dt.timedelta(days=8), dt.time(), dt.UTC)
    return min(start, _now() - dt.timedelta(hours=1)), end


def init_pki(
    folder: Path,
    *,
    election_date: dt.date | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    name: str = "pollnet election",
) -> Path:
    """Create the root CA, the issuing CA, an empty CRL and the ledger's HMAC key in ``folder``.

    Device certificates are later bounded to ``valid_from .. valid_until`` (default: see
    :func:`default_validity`). Refuses a folder that already holds a PKI.
    """
    folder = Path(folder)
    paths = pki_paths(folder)
    if paths["issuing_key"].exists():
        raise UserError.of("a PKI already exists in {folder}", folder=str(folder))
    if valid_from is None or valid_until is None:
        from pollnet.settings import Settings

        start, end = default_validity(election_date or Settings().election_date)
        valid_from, valid_until = valid_from or start, valid_until or end
    if valid_until <= valid_from:
        raise UserError.of("valid_until must be after valid_from")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "devices").mkdir(exist_ok=True)
    ca_from = min(valid_from, _now()) - dt.timedelta(days=1)
    ca_until = valid_until + dt.timedelta(days=1)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{name} root CA")
    root = (
        _builder(root_name, root_name, root_key.public_key(), ca_from, ca_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = (
        _builder(
            _name(f"{name} issuing CA"), root_name, issuing_key.public_key(), ca_from, ca_until
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    _write_key(paths["root_key"], root_key)
    _write_key(paths["issuing_key"], issuing_key)
    _write_public(paths["root_crt"], _pem(root))
    _write_public(paths["issuing_crt"], _pem(issuing))
    _write_public(paths["chain"], _pem(root) + _pem(issuing))
    _write_secret(paths["ledger_key"], secrets.token_hex(32).encode())
    _write_public(
        paths["config"],
        (
            f"valid_from = {json.dumps(valid_from.isoformat())}\n"
            f"valid_until = {json.dumps(valid_until.isoformat())}\n"
        ).encode(),
    )
    _write_crl(folder, [])
    return folder


def enroll_device(
    pki_folder: Path,
    station: str,
    serial: str,
    out_dir: Path | None = None,
    *,
    endpoints: Mapping[str, str | Sequence[str]] | None = None,
    heartbeat_seconds: int = DEFAULT_HEARTBEAT_SECONDS,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    reissue: bool = False,
) -> Path:
    """Issue a key and certificate for device ``serial`` at ``station``; write its bundle.

    A serial already enrolled is refused, unless ``reissue``: then its certificate is revoked
    first (a lost or replaced bundle stops working) and a new one is issued.

    The bundle folder (default ``<pki>/bundles/<serial>``) holds ``device.key`` (0600),
    ``device.crt``, ``ca.pem`` and ``bundle.toml`` (serial, station, ``[endpoints]`` with
    ``fiber``/``lte`` URLs, each one URL or a list of several services' URLs, tried in order,
    ``heartbeat_seconds``). The certificate's validity is the PKI's
    election period unless ``valid_from``/``valid_until`` say otherwise. Returns the folder.
    """
    pki_folder = Path(pki_folder)
    _check_name(serial, "serial")
    _check_name(station, "station")
    issuing_key, issuing = _issuing(pki_folder)
    start, end = _period(pki_folder)
    issued = pki_folder / "devices" / f"{serial}.crt"
    if issued.exists():
        if not reissue:
            before = identity_of(x509.load_pem_x509_certificate(issued.read_bytes()))
            raise UserError.of(
                "device {serial} is already enrolled for station {station}; use --reissue to "
                "revoke its certificate and issue a new one",
                serial=serial,
                station=before.station,
            )
        revoke(pki_folder, serial)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(
            _name(serial),
            issuing.subject,
            key.public_key(),
            valid_from or start,
            valid_until or end,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(DEVICE_URN + serial),
                    x509.UniformResourceIdentifier(STATION_URN + station),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), False
        )
        .sign(issuing_key, hashes.SHA256())
    )
    out = Path(out_dir) if out_dir is not None else pki_folder / "bundles" / serial
    out.mkdir(parents=True, exist_ok=True)
    _write_key(out / "device.key", key)
    _write_public(out / "device.crt", _pem(cert))
    _write_public(out / "ca.pem", pki_paths(pki_folder)["chain"].read_bytes())
    lines = [
        f"serial = {json.dumps(serial)}",
        f"station = {json.dumps(station)}",
        f"heartbeat_seconds = {int(heartbeat_seconds)}",
        "",
        "[endpoints]",
        *(
            f"{link} = {json.dumps(url if isinstance(url, str) else list(url))}"
            for link, url in (endpoints or {}).items()
        ),
        "",
    ]
    _write_public(out / "bundle.toml", "\n".join(lines).encode())
    devices = pki_folder / "devices"
    devices.mkdir(exist_ok=True)
    _write_public(devices / f"{serial}.crt", _pem(cert))
    return out


def revoke(pki_folder: Path, serial: str) -> int:
    """Revoke the certificate of device ``serial``: add it to the CRL. Returns its cert serial."""
    pki_folder = Path(pki_folder)
    crt = pki_folder / "devices" / f"{serial}.crt"
    if not crt.is_file():
        raise NotFoundError.of("no device with serial {serial}", serial=serial)
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    revoked = revoked_serials(pki_folder)
    if cert.serial_number not in revoked:
        _write_crl(pki_folder, [*sorted(revoked), cert.serial_number])
    return int(cert.serial_number)


def revoked_serials(pki_folder: Path) -> frozenset[int]:
    """The certificate serial numbers on the CRL of ``pki_folder``."""
    path = pki_paths(Path(pki_folder))["crl"]
    if not path.is_file():
        raise no_pki(Path(pki_folder))
    crl = x509.load_pem_x509_crl(path.read_bytes())
    return frozenset(entry.serial_number for entry in crl)


def list_devices(pki_folder: Path) -> list[DeviceRecord]:
    """Every device certificate issued from ``pki_folder``, by device serial."""
    revoked = revoked_serials(pki_folder)
    records = []
    for crt in sorted((Path(pki_folder) / "devices").glob("*.crt")):
        cert = x509.load_pem_x509_certificate(crt.read_bytes())
        who = identity_of(cert)
        records.append(
            DeviceRecord(
                who.serial,
                who.station,
                who.cert_serial,
                cert.not_valid_before_utc,
                cert.not_valid_after_utc,
                who.cert_serial in revoked,
            )
        )
    return records


def issue_server_cert(pki_folder: Path, hosts: Sequence[str] = ("127.0.0.1", "localhost")) -> Path:
    """Issue the service's certificate for ``hosts`` (IP addresses or DNS names).

    Writes ``server.key`` (0600) and ``server.crt`` (the server certificate followed by the
    issuing CA) and returns the path of ``server.crt``.
    """
    pki_folder = Path(pki_folder)
    issuing_key, issuing = _issuing(pki_folder)
    start, end = _period(pki_folder)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        _builder(_name(hosts[0]), issuing.subject, key.public_key(), start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    paths = pki_paths(pki_folder)
    _write_key(paths["server_key"], key)
    _write_public(paths["server_crt"], _pem(cert) + _pem(issuing))
    return paths["server_crt"]


def server_ssl_context(pki_folder: Path) -> ssl.SSLContext:
    """A TLS server context that requires a client certificate from the issuing CA.

    The CRL as it is now is also checked in the handshake; the service re-reads it on every
    change (see :class:`RevocationList`), so a revocation takes effect without a restart.
    """
    paths = pki_paths(Path(pki_folder))
    if not paths["server_crt"].is_file():
        raise UserError.of(
            "no server certificate in {folder} (run pollnet pki server-cert)",
            folder=str(pki_folder),
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths["server_crt"], paths["server_key"])
    ctx.load_verify_locations(cafile=paths["chain"])
    ctx.load_verify_locations(cafile=paths["crl"])
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def device_ssl_context(bundle_dir: Path) -> ssl.SSLContext:
    """A TLS client context for a device: its certificate, trusting only the election's CA."""
    bundle_dir = Path(bundle_dir)
    ctx = ssl.create_default_context(cafile=str(bundle_dir / "ca.pem"))
    ctx.load_cert_chain(bundle_dir / "device.crt", bundle_dir / "device.key")
    return ctx


def queue_key(bundle_dir: Path) -> bytes:
    """The key of a device's local voter hashes, derived from its private key (HKDF-SHA256).

    Nothing but the device key (0600, in the bundle) yields it, so the queue file alone does not
    let anyone test national codes against its hashes; the same device always gets the same key.
    """
    path = Path(bundle_dir) / "device.key"
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError):
        raise UserError.of("cannot read the device key", file=str(path)) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UserError.of("the device key is not an EC key", file=str(path))
    secret = key.private_numbers().private_value.to_bytes(32, "big")
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"pollnet device queue voter hash").derive(
        secret
    )


def read_ledger_key(pki_folder: Path) -> bytes:
    """The HMAC key of the ledger (never log it)."""
    path = pki_paths(Path(pki_folder))["ledger_key"]
    if not path.is_file():
        raise no_pki(Path(pki_folder))
    return bytes.fromhex(path.read_text().strip())


def head_signing_key(pki_folder: Path) -> ec.EllipticCurvePrivateKey:
    """The key that signs the ledger's audit head; made on first use (``head.key``, 0600).

    A key of its own, not the server certificate's: reissuing that certificate must not make
    the heads signed before unverifiable.
    """
    paths = pki_paths(Path(pki_folder))
    if not paths["ledger_key"].is_file():
        raise no_pki(Path(pki_folder))
    if not paths["head_key"].is_file():
        key = ec.generate_private_key(ec.SECP256R1())
        _write_key(paths["head_key"], key)
        _write_public(
            paths["head_pub"],
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    loaded = serialization.load_pem_private_key(paths["head_key"].read_bytes(), None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded


def head_public_key(pki_folder: Path) -> ec.EllipticCurvePublicKey:
    """The public half of :func:`head_signing_key` (``head.pub``), to verify a signed head."""
    path = pki_paths(Path(pki_folder))["head_pub"]
    if not path.is_file():
        raise UserError.of(
            "no head.pub in {folder}: the service has not signed a ledger head yet",
            folder=str(pki_folder),
        )
    loaded = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise UserError.of("not an EC public key", file=str(path))
    return loaded


def identity_of(cert: x509.Certificate) -> DeviceIdentity:
    """The device and station a certificate speaks for, from its SAN URIs.

    Raises ``ValueError`` when the certificate does not name exactly one of each.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise ValueError("no subject alternative name") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    devices = [u.removeprefix(DEVICE_URN) for u in uris if u.startswith(DEVICE_URN)]
    stations = [u.removeprefix(STATION_URN) for u in uris if u.startswith(STATION_URN)]
    if len(devices) != 1 or len(stations) != 1:
        raise ValueError("a device certificate names one device and one station")
    return DeviceIdentity(devices[0], stations[0], cert.serial_number, cert.not_valid_after_utc)


def identity_from_der(der: bytes) -> DeviceIdentity:
    """:func:`identity_of` for a DER certificate as the TLS layer hands it over."""
    return identity_of(x509.load_der_x509_certificate(der))


class RevocationList:
    """The CRL of a PKI folder, re-read when the file changes (checked at most once a second)."""

    def __init__(self, pki_folder: Path, *, check_every_s: float = 1.0) -> None:
        self._path = pki_paths(Path(pki_folder))["crl"]
        self._check_every_s = check_every_s
        self._checked_at = -1e18
        self._stamp: tuple[int, int] | None = None
        self._serials: frozenset[int] = frozenset()

    def is_revoked(self, cert_serial: int, now: float) -> bool:
        """Whether ``cert_serial`` is revoked; ``now`` is a monotonic clock in seconds."""
        if now - self._checked_at >= self._check_every_s:
            self._checked_at = now
            stat = self._path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._serials = revoked_serials(self._path.parent)
                self._stamp = stamp
        return cert_serial in self._serials


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _issuing(pki_folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    paths = pki_paths(pki_folder)
    if not paths["issuing_key"].is_file():
        raise no_pki(pki_folder)
    key = serialization.load_pem_private_key(paths["issuing_key"].read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UserError.of("the issuing CA key is not an EC key", file=str(paths["issuing_key"]))
    return key, x509.load_pem_x509_certificate(paths["issuing_crt"].read_bytes())


def _period(pki_folder: Path) -> tuple[dt.datetime, dt.datetime]:
    with pki_paths(pki_folder)["config"].open("rb") as fh:
        config = tomllib.load(fh)
    return (
        dt.datetime.fromisoformat(config["valid_from"]),
        dt.datetime.fromisoformat(config["valid_until"]),
    )


def _write_crl(pki_folder: Path, serials: Sequence[int]) -> None:
    issuing_key, issuing = _issuing(pki_folder)
    _start, end = _period(pki_folder)
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuing.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(max(end, now) + dt.timedelta(days=1))
    )
    for number in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(number)
            .revocation_date(now - dt.timedelta(minutes=5))
            .build()
        )
    crl = builder.sign(issuing_key, hashes.SHA256())
    _write_public(pki_paths(pki_folder)["crl"], crl.public_bytes(serialization.Encoding.PEM))


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    _write_secret(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (0600), atomically."""
    _write_atomic(path, data, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write_atomic(path, data, 0o644)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _check_name(value: str, what: str) -> None:
    if not is_code(value):  # the registry's alphabet: what it imported can be enrolled
        raise UserError.of("not a usable {what}: {value}", what=what, value=value)
