"""C2SP tlog-policy files: which logs and witnesses an observer trusts, and the quorum.

A policy lists ``log <vkey> [<url>]`` lines, ``witness <name> <vkey> [<url>]`` lines, groups
(``group <name> all|any|<k> <member>...``) and exactly one ``quorum <name>`` (``none``: no
cosignature needed). Names must be defined before they are used.

A log key is Ed25519 (signature type 0x01) or ML-DSA-44 (0x06); a log that signs with both is
listed twice, once per key, and then both signatures are required. A witness key is an Ed25519
(0x04) or ML-DSA-44 (0x06) cosignature key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from pollnet.errors import Location, Problem, UserError
from pollnet.tlog.note import COSIGNATURE_V1, ED25519, MLDSA44, NoteError, Verifier, parse_vkey


@dataclass(frozen=True)
class Witness:
    name: str
    verifier: Verifier
    url: str | None = None


@dataclass(frozen=True)
class Log:
    verifiers: tuple[Verifier, ...]
    """The log's keys (one name, the origin): every one must sign a checkpoint."""
    url: str | None = None

    @property
    def verifier(self) -> Verifier:
        """The log's first key in the policy."""
        return self.verifiers[0]


@dataclass(frozen=True)
class Group:
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A parsed policy; :meth:`satisfied` says whether cosigners meet the quorum."""

    logs: tuple[Log, ...]
    witnesses: dict[str, Witness]
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    def log_for(self, origin: str) -> Log | None:
        """The policy's log whose key name is ``origin``."""
        return next((log for log in self.logs if log.verifier.name == origin), None)

    def satisfied(self, cosigned: Collection[str]) -> bool:
        """Whether the witnesses (by policy name) in ``cosigned`` meet the quorum."""
        return self._witnessed(self.quorum, set(cosigned))

    def _witnessed(self, name: str, cosigned: set[str]) -> bool:
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._witnessed(m, cosigned) for m in group.members) >= group.threshold

    def by_key_name(self) -> dict[str, str]:
        """Witness key name -> policy name."""
        return {w.verifier.name: name for name, w in self.witnesses.items()}


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Read a policy; every defect is a :class:`UserError` naming the file, row and column."""
    logs: list[Log] = []
    witnesses: dict[str, Witness] = {}
    groups: dict[str, Group] = {}
    quorum: str | None = None
    problems: list[Problem] = []
    keys: set[bytes] = set()

    def bad(row: int, column: str, message: str, **params: object) -> None:
        problems.append(Problem(message, params, Location(source, row or None, column)))

    for row, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        words = line.replace("\t", " ").split()
        kind, args = words[0], words[1:]
        try:
            if kind == "log" and len(args) in (1, 2):
                verifier = parse_vkey(args[0])
                if verifier.sig_type not in (ED25519, MLDSA44):
                    raise NoteError("a log key must be Ed25519 (type 0x01) or ML-DSA-44 (0x06)")
                if verifier.public in keys:
                    raise NoteError("a duplicate key")
                keys.add(verifier.public)
                url = args[1] if len(args) == 2 else None
                same = next(
                    (n for n, log in enumerate(logs) if log.verifier.name == verifier.name), None
                )
                if same is None:
                    logs.append(Log((verifier,), url))
                else:  # the same log's second key
                    logs[same] = Log((*logs[same].verifiers, verifier), logs[same].url or url)
            elif kind == "witness" and len(args) in (2, 3):
                name = args[0]
                if name in witnesses or name in groups or name == "none":
                    bad(row, "name", "the name {name} is already defined", name=name)
                    continue
                verifier = parse_vkey(args[1])
                if verifier.sig_type not in (COSIGNATURE_V1, MLDSA44):
                    raise NoteError("a witness key must be a cosignature key (type 0x04 or 0x06)")
                if verifier.public in keys:
                    raise NoteError("a duplicate key")
                keys.add(verifier.public)
                witnesses[name] = Witness(name, verifier, args[2] if len(args) == 3 else None)
            elif kind == "group" and len(args) >= 3:
                name, threshold_text, members = args[0], args[1], tuple(args[2:])
                if name in witnesses or name in groups or name == "none":
                    bad(row, "name", "the name {name} is already defined", name=name)
                    continue
                unknown = [m for m in members if m not in witnesses and m not in groups]
                if unknown or len(set(members)) != len(members):
                    bad(row, "members", "a group's members must be defined before, once each")
                    continue
                if threshold_text == "all":
                    threshold = len(members)
                elif threshold_text == "any":
                    threshold = 1
                elif threshold_text.isdigit() and 1 <= int(threshold_text) <= len(members):
                    threshold = int(threshold_text)
                else:
                    bad(
                        row,
                        "threshold",
                        "the threshold must be all, any or 1 to {n}",
                        n=len(members),
                    )
                    continue
                groups[name] = Group(threshold, members)
            elif kind == "quorum" and len(args) == 1:
                if quorum is not None:
                    bad(row, "quorum", "a policy has exactly one quorum line")
                elif args[0] != "none" and args[0] not in witnesses and args[0] not in groups:
                    bad(row, "quorum", "the quorum {name} is not defined above", name=args[0])
                else:
                    quorum = args[0]
            else:
                bad(row, "line", "not a policy line: {line}", line=line)
        except NoteError as exc:
            bad(row, "vkey", "a bad key: {reason}", reason=str(exc))
    if quorum is None and not problems:
        bad(0, "quorum", "the policy has no quorum line")
    if problems:
        raise UserError(problems)
    assert quorum is not None
    return Policy(tuple(logs), witnesses, groups, quorum)


def read_policy(path: Path) -> Policy:
    """Read the policy file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError.of(
            "cannot read the policy: {reason}", file=str(path), reason=str(exc)
        ) from None
    return parse_policy(text, str(path))
