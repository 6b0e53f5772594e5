"""What an import kept and what it dropped or repaired, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pollnet.i18n import format_number, tr

# Each reason with the English msgid that explains it; the order is the order of the report.
REASONS: dict[str, str] = {
    "non_street_class": "{count} ways of a highway class fiber does not follow",
    "no_class": "{count} lines without a highway class",
    "area": "{count} area ways (area=yes)",
    "non_line_geometry": "{count} features that are not lines",
    "missing_nodes": "{count} ways whose nodes are all missing from the file",
    "cut_at_missing_nodes": "{count} ways cut where their nodes are missing from the file",
    "degenerate": "{count} lines with fewer than two distinct points",
    "repeated_points": "{count} repeated consecutive points removed",
    "merged_nodes": "{count} nodes merged with another node at the same coordinates",
    "zero_length": "{count} edges of zero length",
    "negative_length": "{count} edges of negative or unknown length",
    "loop": "{count} loop edges (starting and ending at the same node)",
    "duplicate_edge": "{count} duplicate edges (same ends and length as another)",
    "unknown_class": "{count} edges of a class not chosen",
}


@dataclass(frozen=True)
class ImportReport:
    """The account of one import.

    ``ways_read`` counts the candidate lines read (OSM ways with a ``highway`` tag, GeoJSON
    features, or edges given as arrays), ``ways_kept`` those that gave at least one candidate edge
    (before the length, loop and duplicate checks; for arrays: the edges kept).
    ``counts`` maps a reason of :data:`REASONS` to how many things it dropped or repaired;
    ``dropped_classes`` maps each highway class left out to its number of ways.
    """

    source: str
    ways_read: int = 0
    ways_kept: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    dropped_classes: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Only non-zero counts are kept, so equal reports compare equal.
        object.__setattr__(self, "counts", {k: int(v) for k, v in self.counts.items() if v})

    def lines(self, lang: str | None = None) -> list[str]:
        """The report as translated lines, one per non-zero reason."""
        kept = tr(
            "{kept} of {read} lines kept",
            lang,
            kept=format_number(self.ways_kept, lang),
            read=format_number(self.ways_read, lang),
        )
        out = [f"{self.source}: {kept}"]
        for reason, message in REASONS.items():
            count = self.counts.get(reason, 0)
            if count:
                line = tr(message, lang, count=format_number(count, lang))
                if reason == "non_street_class" and self.dropped_classes:
                    detail = ", ".join(
                        f"{name} {format_number(n, lang)}"
                        for name, n in sorted(self.dropped_classes.items(), key=lambda kv: -kv[1])
                    )
                    line = f"{line}: {detail}"
                out.append(line)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "source": self.source,
            "ways_read": self.ways_read,
            "ways_kept": self.ways_kept,
            "counts": dict(self.counts),
            "dropped_classes": dict(self.dropped_classes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportReport:
        """The inverse of :meth:`to_dict`."""
        return cls(
            source=str(data.get("source", "")),
            ways_read=int(data.get("ways_read", 0)),
            ways_kept=int(data.get("ways_kept", 0)),
            counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
            dropped_classes={str(k): int(v) for k, v in data.get("dropped_classes", {}).items()},
        )

    def with_counts(self, **extra: int) -> ImportReport:
        """A copy with ``extra`` added to the counts."""
        counts = dict(self.counts)
        for key, value in extra.items():
            counts[key] = counts.get(key, 0) + int(value)
        return ImportReport(
            self.source, self.ways_read, self.ways_kept, counts, dict(self.dropped_classes)
        )
