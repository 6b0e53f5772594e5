"""The log's entry encoding: the writer's bulk encoder against the one-entry reference."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from pollnet.link.ledger import Outcome
from pollnet.tlog import entry as entries

PUBLICATION = b"p" * 32
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
outcomes = st.builds(
    Outcome,
    kind=st.sampled_from(entries.OUTCOMES),
    station=names,
    device=names,
    at=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    voter_hash=st.binary(min_size=32, max_size=32).map(bytes.hex),
)


@settings(max_examples=30, deadline=None)
@given(election=names, batches=st.lists(st.lists(outcomes, max_size=8), max_size=4))
def test_the_bulk_encoder_writes_what_encode_writes(
    election: str, batches: list[list[Outcome]]
) -> None:
    encoder = entries.Encoder(election, PUBLICATION)
    for batch in batches:  # one encoder over several batches: its caches must not leak
        expected = [
            entries.encode(
                entries.Entry(
                    election,
                    o.station,
                    o.device,
                    o.at,
                    o.kind,
                    entries.publication_hash(PUBLICATION, o.voter_hash),
                )
            )
            for o in batch
        ]
        got = encoder.encode(batch)
        assert got == expected
        for data, o in zip(got, batch, strict=True):
            decoded = entries.decode(data)
            assert (decoded.election, decoded.station, decoded.device, decoded.outcome) == (
                election,
                o.station,
                o.device,
                o.kind,
            )
            assert decoded.at == o.at.replace(microsecond=o.at.microsecond // 1000 * 1000)


def test_the_bulk_encoder_refuses_what_encode_refuses() -> None:
    encoder = entries.Encoder("e1", PUBLICATION)
    at = dt.datetime(2028, 2, 25, 8, tzinfo=dt.UTC)
    with pytest.raises(entries.EntryError, match="unknown outcome"):
        encoder.encode([Outcome("lost", "ST-1", "D-1", at, "00" * 32)])
    with pytest.raises(entries.EntryError, match="longer than 255"):
        encoder.encode([Outcome("accepted", "S" * 256, "D-1", at, "00" * 32)])
