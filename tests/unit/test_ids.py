"""UUIDv7 ids: well-formed, unique and in the order they were made, one at a time or in bulk."""

from __future__ import annotations

import uuid

from adapters.ids import UuidV7Generator


def _fixed_clock(ms: int) -> UuidV7Generator:
    return UuidV7Generator(milliseconds=lambda: ms)


def _check_well_formed(ids: list[str], timestamp_ms: int | None = None) -> None:
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        if timestamp_ms is not None:
            assert parsed.int >> 80 == timestamp_ms


def test_ids_made_in_bulk_are_well_formed_distinct_and_sorted() -> None:
    ids = _fixed_clock(1_764_892_800_000).new_ids(5000)

    assert len(ids) == 5000
    assert len(set(ids)) == 5000
    assert ids == sorted(ids)
    _check_well_formed(ids, timestamp_ms=1_764_892_800_000)


def test_bulk_and_single_ids_interleave_in_order_within_one_millisecond() -> None:
    generator = _fixed_clock(1_764_892_800_000)

    ids = [generator.new_id(), *generator.new_ids(3), generator.new_id(), *generator.new_ids(2)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    counters = [uuid.UUID(value).int & ((1 << 80) - 1) for value in ids]
    # Consecutive within the millisecond: the version and variant bits sit between the parts.
    assert [c - counters[0] for c in counters] == list(range(len(ids)))


def test_a_later_millisecond_sorts_after_and_a_clock_stepping_back_does_not_reorder() -> None:
    now = [1_000]
    generator = UuidV7Generator(milliseconds=lambda: now[0])
    first = generator.new_ids(10)
    now[0] = 2_000
    second = generator.new_ids(10)
    now[0] = 1_500  # the wall clock stepped back
    third = generator.new_ids(10)

    ids = first + second + third
    assert ids == sorted(ids)
    assert len(set(ids)) == 30
    _check_well_formed(second + third, timestamp_ms=2_000)


def test_a_bulk_run_across_the_rand_a_boundary_formats_every_id_as_uuid_does() -> None:
    generator = _fixed_clock(7)
    generator.new_id()
    generator._counter = (5 << 62) - 3  # three ids before rand_a moves on

    ids = generator.new_ids(6)

    assert ids == sorted(ids)
    expected = [
        str(uuid.UUID(int=7 << 80 | 0x7 << 76 | (c >> 62) << 64 | 0b10 << 62 | c % (1 << 62)))
        for c in range((5 << 62) - 2, (5 << 62) + 4)
    ]
    assert ids == expected


def test_asking_for_no_ids_makes_none() -> None:
    assert _fixed_clock(1).new_ids(0) == []
