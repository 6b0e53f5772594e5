"""The transparency log's costs and speeds, each against a named baseline in the same run.

1. ``service``: ``pollnet serve`` over mutual TLS (``bench_checkins``' load: 64 devices, one
   keep-alive connection each) with the log off and on, interleaved over ``--rounds`` rounds
   (off/on, on/off, ...; fresh SQLite databases): accepted check-ins/s, p99 and the service's
   CPU per check-in, means over the rounds; baseline = the log off. Then, from the log-on
   databases, how long each accepted check-in waited for a signed checkpoint (entry time to
   checkpoint time), p99.
2. ``observer``: a log of ``--entries`` entries (default 1.6 million, a Tehran election) written
   straight to SQLite, published on 127.0.0.1 with three HTTP witnesses: the wall time of an
   incremental ``observe.verify`` (1,000 new entries, quorum 2 of 3, consistency) plus fetching
   and verifying one receipt; a receipt verified offline (mean of 1,000). Then the first full
   ``observe.verify`` and ``observe.audit`` of the whole log (every entry bundle fetched over
   HTTP and re-hashed, every hash tile above level 0 checked) from two mirrors, each a process of
   its own: ``pollnet log serve`` reading the database, and ``pollnet log serve --static`` serving
   the export ``pollnet log export`` writes. Baselines: SHA-256 of the same entries in one loop
   (the hashing alone) and the figures before this change (from ``pollnet log serve``: audit
   14.2 s and first verify 37.4 s on the nearly quiet machine, 15.6 s and 61.7 s loaded).
3. ``big``: a log of ``--big-entries`` entries (default 25 million) written straight as a static
   export (entries, level-0 and higher tiles, a signed checkpoint; no database), served by
   ``pollnet log serve --static``, and ``observe.audit`` of it; baseline: the 1.6 M audit's rate.
4. ``proofs``: inclusion and consistency proof sizes at 61 million entries, computed.
5. ``writer``: the ledger writer thread's own CPU per check-in with the log on against off, in
   one process (alternate batches of 32 to two ledgers): what the log adds to the transaction,
   free of the service's scheduling noise on a shared machine.

    .venv/bin/python benchmarks/bench_tlog.py [--seconds 10] [--rounds 3] [--entries 1600000]
        [--big-entries 25000000] [--skip-service] [--skip-observer] [--skip-writer]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

import bench_checkins as checkins
from pollnet.link import pki
from pollnet.link.checkin import Checkin
from pollnet.link.ledger import Ledger
from pollnet.link.service import bind
from pollnet.store import open_store
from pollnet.store.bulk import insert_many
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle, note, observe, store, tiles
from pollnet.tlog.policy import Policy, parse_policy
from pollnet.tlog.publisher import Publisher
from pollnet.tlog.service import export
from pollnet.tlog.witness import Witness, WitnessApp, http_cosigner


def service(seconds: float, connections: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-tlog-"))
    try:
        today = dt.datetime.now(dt.UTC).date()
        pki_dir = pki.init_pki(folder / "pki", election_date=today)
        pki.issue_server_cert(pki_dir)
        contexts = [
            pki.device_ssl_context(pki.enroll_device(pki_dir, f"ST-{i // 4}", f"D-{i}"))
            for i in range(connections)
        ]
        results: dict[str, list[dict[str, float]]] = {"log off": [], "log on": []}
        waits: list[float] = []
        raw = checkins.raw_sqlite_limit(folder, 3.0)
        # Interleaved (off, on, on, off, off, on, ...) so that the load of the shared machine
        # falls on both alike; every run has a fresh database and service process.
        for r in range(rounds):
            for name in ("log off", "log on") if r % 2 == 0 else ("log on", "log off"):
                cwd = folder / f"{name.replace(' ', '-')}-{r}"
                cwd.mkdir()
                config = ""
                if name == "log on":
                    store.init_keys(cwd / "pollnet-data" / "tlog", "bench.example/log")
                    config = "[tlog]\npublic_port = 0\ncheckpoint_interval_s = 5\n"
                (cwd / "pollnet.toml").write_text(config)
                os.environ["POLLNET_CONFIG"] = str(cwd / "pollnet.toml")
                url = f"sqlite:///{cwd / 'ledger.db'}"
                results[name].append(
                    checkins.run_backend(
                        f"sqlite, {name} (round {r + 1})",
                        url,
                        pki_dir,
                        contexts,
                        cwd,
                        seconds,
                        raw,
                        [],
                        0.0,
                    )
                )
                if name == "log on":
                    waits += checkpoint_waits(open_store(url))
        off, on = (_mean(results[name]) for name in ("log off", "log on"))
        print(
            f"service, mean of {rounds} interleaved rounds: log on {on['rate']:,.0f}/s p99 "
            f"{on['p99']:.1f} ms CPU {on['cpu_us']:.0f} µs per check-in vs log off "
            f"{off['rate']:,.0f}/s p99 {off['p99']:.1f} ms CPU {off['cpu_us']:.0f} µs: throughput "
            f"ratio {on['rate'] / off['rate']:.2f}, p99 ratio {on['p99'] / off['p99']:.2f}, CPU "
            f"{on['cpu_us'] - off['cpu_us']:+.0f} µs per check-in (target: within 10 %); load "
            f"average now {os.getloadavg()[0]:.1f}"
        )
        waits.sort()
        print(
            f"service: {len(waits):,} logged check-ins; entry to signed checkpoint p50 "
            f"{waits[len(waits) // 2]:.2f} s, p99 {waits[int(0.99 * len(waits))]:.2f} s, max "
            f"{waits[-1]:.2f} s (target p99 <= 10 s; checkpoint interval 5 s)"
        )
    finally:
        os.environ.pop("POLLNET_CONFIG", None)
        shutil.rmtree(folder, ignore_errors=True)


def _mean(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}


def checkpoint_waits(engine: sa.Engine) -> list[float]:
    """Seconds from each entry's time to the signing of the first checkpoint that holds it."""
    with engine.connect() as conn:
        marks = [
            (int(size), dt.datetime.fromisoformat(str(at)).replace(tzinfo=dt.UTC))
            for size, at in conn.execute(
                sa.text("SELECT size, signed_at FROM tlog_checkpoints ORDER BY size")
            )
        ]
        rows = conn.execute(sa.text("SELECT idx, entry FROM tlog_entries ORDER BY idx")).all()
    waits = []
    k = 0
    for idx, data in rows:
        while k < len(marks) and marks[k][0] <= idx:
            k += 1
        if k == len(marks):
            break  # after the last checkpoint (the service stopped)
        waits.append((marks[k][1] - entries.decode(bytes(data)).at).total_seconds())
    return waits


def build_log(engine: sa.Engine, count: int) -> list[bytes]:
    """``count`` synthetic entries written straight to ``tlog_entries``; returns them."""
    key = b"p" * 32
    start = dt.datetime(2028, 2, 25, 8, tzinfo=dt.UTC)
    data = [
        entries.encode(
            entries.Entry(
                "1406-12-06",
                f"T-{i % 6000:05d}",
                f"DV-{i % 12000:05d}",
                start + dt.timedelta(milliseconds=i * 20),
                "accepted",
                hashlib.sha256(key + i.to_bytes(8, "big")).digest(),
            )
        )
        for i in range(count)
    ]
    with engine.begin() as conn:
        for lo in range(0, count, 100_000):
            chunk = data[lo : lo + 100_000]
            rows = [(lo + i, d, merkle.leaf_hash(d)) for i, d in enumerate(chunk)]
            insert_many(conn, "tlog_entries", ("idx", "entry", "leaf_hash"), rows)
    return data


def observer(total: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-tlog-obs-"))
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    try:
        engine = open_store(f"sqlite:///{folder / 'log.db'}")
        t0 = time.perf_counter()
        data = build_log(engine, total - 1000)
        print(f"observer: wrote {total - 1000:,} entries in {time.perf_counter() - t0:.1f} s")
        signer = note.Signer.generate("bench.example/log")
        witnesses = [
            Witness(
                note.Signer.generate(f"w{i}.bench.example", note.COSIGNATURE_V1),
                [signer.verifier],
                folder / f"w{i}",
            )
            for i in range(3)
        ]
        urls = []
        for w in witnesses:
            server = uvicorn.Server(uvicorn.Config(WitnessApp(w), log_level="warning"))
            sock = bind("127.0.0.1", 0)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.01)
            servers.append((server, thread))
            urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
        t0 = time.perf_counter()
        publisher = Publisher(engine, signer)
        publisher.cosigners = {f"W{i}": http_cosigner(u) for i, u in enumerate(urls)}
        publisher.step()
        print(
            f"observer: publisher loaded and signed {publisher.size:,} entries in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        policy = parse_policy(
            f"log {signer.verifier.vkey}\n"
            + "".join(f"witness W{i} {w.signer.verifier.vkey}\n" for i, w in enumerate(witnesses))
            + "group q 2 W0 W1 W2\nquorum q\n"
        )
        # The public API in a process of its own (``pollnet log serve``, a read-only mirror of
        # what the publisher stored), as on election day: the observer does not share its GIL.
        mirror, url = start_mirror(folder)
        try:
            fetch = observe.HttpFetch(url)
            state = folder / "observer"
            t0 = time.perf_counter()
            observe.verify(fetch, policy, state)
            print(
                f"observer: first full verify of {publisher.size:,} entries from log serve "
                f"(database), quorum 2 of 3: {time.perf_counter() - t0:.1f} s (before: 37.4 s "
                "quiet, 61.7 s loaded)"
            )
            build_more(engine, total - 1000, 1000)
            publisher.step(force=True)
            wait_for_size(fetch, total)
            t0 = time.perf_counter()
            report = observe.verify(fetch, policy, state)
            receipt = fetch(f"proof/{total - 1}").decode()
            observe.verify_receipt(receipt, policy)
            verify_s = time.perf_counter() - t0
            print(
                f"observer: verify of checkpoint {report.size:,} from {report.previous_size:,} "
                f"(quorum {len(report.witnesses)} of 3, consistency, 1,000 new entries) plus one "
                f"receipt fetched and verified: {verify_s * 1000:.0f} ms wall (target < 1 s)"
            )
            t0 = time.perf_counter()
            for _ in range(1000):
                observe.verify_receipt(receipt, policy)
            per = (time.perf_counter() - t0) / 1000
            print(
                f"observer: a receipt verifies offline in {per * 1000:.2f} ms "
                f"({len(receipt.split(chr(10) * 2)[0].splitlines()) - 3} proof hashes, "
                "3 cosignatures; target < 5 ms)"
            )
            t0 = time.perf_counter()
            for d in data:
                hashlib.sha256(b"\x00" + d).digest()
            hash_s = time.perf_counter() - t0
            print(f"observer: baseline: leaf hashes alone {hash_s:.1f} s")
            full_checks(fetch, policy, None, "log serve (database)", hash_s)
        finally:
            mirror.terminate()
            mirror.wait(30)
        t0 = time.perf_counter()
        files = export(publisher, folder / "export")
        print(f"observer: log export wrote {files:,} files in {time.perf_counter() - t0:.1f} s")
        mirror, url = start_mirror(folder, folder / "export")
        try:
            fetch = observe.HttpFetch(url)
            full_checks(fetch, policy, folder / "first-static", "log serve --static", hash_s)
        finally:
            mirror.terminate()
            mirror.wait(30)
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(10)
        shutil.rmtree(folder, ignore_errors=True)


def full_checks(
    fetch: observe.Fetch, policy: Policy, state: Path | None, mirror: str, hash_s: float
) -> float:
    """A first full verify (with a ``state`` folder) and an audit of the whole log from one
    mirror; returns the audit's rate."""
    print(f"observer: load average {os.getloadavg()[0]:.1f}")
    if state is not None:
        t0 = time.perf_counter()
        report = observe.verify(fetch, policy, state)
        verify_s = time.perf_counter() - t0
        print(
            f"observer: first full verify of {report.size:,} entries from {mirror}: "
            f"{verify_s:.1f} s (before: 37.4 s quiet, 61.7 s loaded)"
        )
    t0 = time.perf_counter()
    audited = observe.audit(fetch, policy)
    audit_s = time.perf_counter() - t0
    print(
        f"observer: audit of {audited.entries:,} entries and {audited.tiles} hash tiles from "
        f"{mirror}: {audit_s:.1f} s ({audited.entries / audit_s:,.0f}/s; target 1.6 M < 10 s; "
        f"before: 14.2 s quiet, 15.6 s loaded; leaf hashes alone {hash_s:.1f} s, ratio "
        f"{audit_s / hash_s:.1f})"
    )
    return audited.entries / audit_s


def big(total: int) -> None:
    """A static export of ``total`` synthetic entries, served by ``log serve --static``, audited."""
    folder = Path(tempfile.mkdtemp(prefix="bench-tlog-big-"))
    try:
        signer = note.Signer.generate("bench.example/big")
        print(f"big: load average {os.getloadavg()[0]:.1f}")
        t0 = time.perf_counter()
        write_static_log(folder / "export", total, signer)
        print(f"big: wrote a static log of {total:,} entries in {time.perf_counter() - t0:.0f} s")
        policy = parse_policy(f"log {signer.verifier.vkey}\nquorum none\n")
        mirror, url = start_mirror(folder, folder / "export")
        try:
            print(f"big: load average {os.getloadavg()[0]:.1f}")
            t0 = time.perf_counter()
            audited = observe.audit(observe.HttpFetch(url), policy)
            audit_s = time.perf_counter() - t0
            print(
                f"big: audit of {audited.entries:,} entries and {audited.tiles} hash tiles from "
                f"log serve --static: {audit_s:.0f} s ({audited.entries / audit_s:,.0f}/s; target "
                f"< 180 s; before: 222 s extrapolated from 14.2 s at 1.6 M, ratio "
                f"{audit_s / 222:.2f}); load average after {os.getloadavg()[0]:.1f}"
            )
        finally:
            mirror.terminate()
            mirror.wait(30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_static_log(folder: Path, count: int, signer: note.Signer) -> None:
    """``count`` synthetic entries as ``pollnet log export`` lays them out: entry bundles, hash
    tiles of every level, the signed checkpoint last. No database; the bundles are written by
    one process per core (:func:`_write_bundles`), the tiles above from their roots."""
    per_job = 2048
    bundles = -(-count // tiles.TILE_WIDTH)
    jobs = [(folder, n, min(n + per_job, bundles), count) for n in range(0, bundles, per_job)]
    known = tiles.TileHashes(0)
    compact = merkle.CompactRange()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        for roots, partial in pool.map(_write_bundles, jobs):
            for root in roots:
                known.add(root)
                compact.append_subtree(root, tiles.TILE_HEIGHT)
            for leaf in partial:
                compact.append(leaf)
    for level, n, width in tiles.tiles_for(count):
        if level > 0:
            path = folder / tiles.tile_path(level, n, width)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(known.tile(level, n, width))
    checkpoint = note.Checkpoint(signer.name, count, compact.root())
    (folder / "checkpoint").write_text(note.sign_note(checkpoint.text, [signer]))


def _write_bundles(job: tuple[Path, int, int, int]) -> tuple[list[bytes], list[bytes]]:
    """Write entry bundles ``[first, end)`` of a ``count``-entry log and their level-0 tiles;
    returns the roots of the full bundles and the leaf hashes of a partial last one. An entry
    is built from precomputed parts (checked against ``entries.encode``); its voter hash is its
    index (distinct, and nothing here counts voters)."""
    folder, first, end, count = job
    start_ms = 1_835_000_000_000
    head = bytes([entries.VERSION, 1])  # version, "accepted"
    tails = []
    for k in range(12_000):
        names = [b"1406-12-06", f"T-{k % 6000:05d}".encode(), f"DV-{k:05d}".encode()]
        tails.append(b"".join(bytes([len(x)]) + x for x in names))

    def entry(i: int) -> bytes:
        return (
            head
            + (start_ms + 20 * i).to_bytes(8, "big")
            + i.to_bytes(32, "big")
            + tails[i % 12_000]
        )

    check = entries.decode(entry(first + 7))
    assert entries.encode(check) == entry(first + 7)
    roots: list[bytes] = []
    partial: list[bytes] = []
    made: set[Path] = set()
    for n in range(first, end):
        lo = n * tiles.TILE_WIDTH
        items = [entry(i) for i in range(lo, min(lo + tiles.TILE_WIDTH, count))]
        leaves = merkle.leaf_hashes(items)
        for level, data in (
            ("entries", b"".join(len(d).to_bytes(2, "big") + d for d in items)),
            (0, b"".join(leaves)),
        ):
            path = folder / tiles.tile_path(level, n, len(items))
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(data)
        if len(items) == tiles.TILE_WIDTH:
            roots.append(merkle.perfect_root(leaves))
        else:
            partial = leaves
    return roots, partial


def start_mirror(folder: Path, static: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``pollnet log serve`` on the benchmark's database (or ``--static``: an export); returns
    the process and its URL."""
    env = {**os.environ, "POLLNET_DB": f"sqlite:///{folder / 'log.db'}", "POLLNET_LANG": "en"}
    err = (folder / "mirror.log").open("wb")
    extra = ["--static", str(static)] if static is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "pollnet", "log", "serve", "--port", "0", *extra],
        stdout=subprocess.DEVNULL,
        stderr=err,
        env=env,
        cwd=folder,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = re.findall(r"http://127\.0\.0\.1:\d+", (folder / "mirror.log").read_text())
        if found:
            return proc, found[-1]
        if proc.poll() is not None:
            raise SystemExit((folder / "mirror.log").read_text())
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the mirror did not start")


def wait_for_size(fetch: observe.Fetch, size: int) -> None:
    """Wait until the log's public checkpoint reaches ``size`` (the mirror follows each second)."""
    while int(fetch("checkpoint").split(b"\n")[1]) < size:
        time.sleep(0.2)


def build_more(engine: sa.Engine, start: int, count: int) -> None:
    key = b"q" * 32
    at = dt.datetime(2028, 2, 25, 18, tzinfo=dt.UTC)
    rows = []
    for i in range(start, start + count):
        d = entries.encode(
            entries.Entry(
                "1406-12-06",
                "T-00001",
                "DV-00001",
                at,
                "accepted",
                hashlib.sha256(key + i.to_bytes(8, "big")).digest(),
            )
        )
        rows.append((i, d, merkle.leaf_hash(d)))
    with engine.begin() as conn:
        insert_many(conn, "tlog_entries", ("idx", "entry", "leaf_hash"), rows)


def writer(count: int, batch: int) -> None:
    """The ledger writer thread's own CPU per check-in, log off and on, in one process.

    Two ledgers on two SQLite files (WAL, synchronous=FULL) take alternate batches of ``batch``
    check-ins, so whatever else runs on the machine falls on both alike; each writer thread's
    CPU time comes from ``/proc/self/task/<tid>/schedstat`` (nanoseconds).
    """
    folder = Path(tempfile.mkdtemp(prefix="bench-tlog-writer-"))
    ledgers: dict[str, tuple[Ledger, int]] = {}
    try:
        for name in ("log off", "log on"):
            engine = open_store(f"sqlite:///{folder / name.replace(' ', '-')}.db")
            outcome_log = store.LedgerLog("e1", b"p" * 32) if name == "log on" else None
            ledger = Ledger(engine, "e1", outcome_log=outcome_log)
            before = {t.native_id for t in threading.enumerate()}
            ledger.start()
            thread = next(
                t
                for t in threading.enumerate()
                if t.name == "ledger-writer" and t.native_id not in before
            )
            assert thread.native_id is not None
            ledgers[name] = (ledger, thread.native_id)
        now = dt.datetime.now(dt.UTC)
        items = {
            name: [
                Checkin(
                    f"D-{i % 64}",
                    f"ST-{i % 16}",
                    f"{name}-{i}",
                    hashlib.sha256(f"{name}-{i}".encode()).hexdigest(),
                    now,
                    None,
                    True,
                    0.9,
                )
                for i in range(count + 1)
            ]
            for name in ledgers
        }
        for name, (ledger, _) in ledgers.items():
            ledger.record(items[name][0])  # the first connection and statements
        used = {name: 0 for name in ledgers}
        answered = threading.Semaphore(0)
        for n, start in enumerate(range(1, count + 1, batch)):
            for name in ("log off", "log on") if n % 2 == 0 else ("log on", "log off"):
                ledger, tid = ledgers[name]
                chunk = items[name][start : start + batch]
                cpu0 = _thread_cpu_ns(tid)
                for item in chunk:
                    ledger.submit(item, lambda _answer: answered.release())
                for _ in chunk:
                    answered.acquire()
                used[name] += _thread_cpu_ns(tid) - cpu0
        off, on = (used[name] / count / 1000 for name in ("log off", "log on"))
        print(
            f"writer: the ledger writer's CPU per check-in (batches of {batch}, {count:,} each, "
            f"interleaved): log on {on:.1f} µs vs log off {off:.1f} µs: +{on - off:.1f} µs, ratio "
            f"{on / off:.2f}; load average now {os.getloadavg()[0]:.1f}"
        )
    finally:
        for ledger, _ in ledgers.values():
            ledger.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _thread_cpu_ns(tid: int) -> int:
    return int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0])


def proofs() -> None:
    size = 61_000_000
    probes = [0, 1, size // 3, size // 2, 2**25 - 1, 2**25, size - 2, size - 1]
    worst = max(merkle.proof_size(i, size) for i in probes)
    tree_height = (size - 1).bit_length()
    print(
        f"proofs: at {size:,} entries an inclusion proof has at most {worst} hashes "
        f"(tree height {tree_height}; target <= 26), {worst * 32} bytes; a consistency proof at "
        f"most {2 * tree_height} hashes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--rounds", type=int, default=3, help="service runs with the log off and on, interleaved"
    )
    parser.add_argument("--skip-observer", action="store_true")
    parser.add_argument("--skip-writer", action="store_true")
    parser.add_argument("--entries", type=int, default=1_600_000)
    parser.add_argument("--big-entries", type=int, default=25_000_000, help="0: skip")
    parser.add_argument("--skip-service", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    proofs()
    if not args.skip_writer:
        writer(10_000, 32)
    if not args.skip_service:
        service(args.seconds, args.connections, args.rounds)
    if not args.skip_observer:
        observer(args.entries)
    if args.big_entries:
        big(args.big_entries)


if __name__ == "__main__":
    main()
