"""The audit chain: keyed MACs, verification and what an entry may hold."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from instrument.audit import (
    GENESIS,
    AuditAction,
    AuditEntry,
    AuditEvent,
    Entity,
    Outcome,
    chain,
    head_mac,
    verify_chain,
)

KEY = b"k" * 32
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def build(n: int) -> tuple[list[AuditEntry], tuple[int, str, str]]:
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        event = AuditEvent(
            at=T0 + dt.timedelta(seconds=seq),
            action=AuditAction.SAVE,
            actor_id=seq % 3 + 1,
            role="psychologist",
            entity=Entity.ASSESSMENT,
            entity_id=seq,
            version=1,
        )
        entry = chain(KEY, event, seq=seq, prev_mac=prev)
        entries.append(entry)
        prev = entry.mac
    last = entries[-1] if entries else None
    head_seq, mac = (last.seq, last.mac) if last else (0, GENESIS)
    return entries, (head_seq, mac, head_mac(KEY, head_seq, mac))


def test_an_intact_chain_verifies() -> None:
    entries, head = build(50)
    result = verify_chain(KEY, entries, head)
    assert result.ok
    assert result.entries == 50


def test_an_empty_chain_verifies() -> None:
    entries, head = build(0)
    assert verify_chain(KEY, entries, head).ok


def test_a_wrong_key_fails_at_the_first_entry() -> None:
    entries, head = build(5)
    result = verify_chain(b"other", entries, head)
    assert not result.ok
    assert result.first_bad_seq == 1


def test_every_tamper_class_names_the_first_bad_seq() -> None:
    entries, head = build(20)
    edited = [*entries]
    edited[6] = dataclasses.replace(edited[6], outcome=Outcome.DENIED.value)
    assert verify_chain(KEY, edited, head).first_bad_seq == 7
    relinked = [*entries]
    relinked[9] = dataclasses.replace(relinked[9], prev_mac=GENESIS)
    assert verify_chain(KEY, relinked, head).first_bad_seq == 10
    deleted = entries[:4] + entries[5:]
    assert verify_chain(KEY, deleted, head).first_bad_seq == 5
    swapped = [*entries]
    swapped[2], swapped[8] = swapped[8], swapped[2]
    assert verify_chain(KEY, swapped, head).first_bad_seq == 3
    forged = [*entries, dataclasses.replace(entries[-1], seq=21, prev_mac=entries[-1].mac)]
    assert verify_chain(KEY, forged, head).first_bad_seq == 21
    truncated = entries[:15]
    result = verify_chain(KEY, truncated, head)
    assert result.first_bad_seq == 16
    assert "missing" in result.reason


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        chain(
            KEY,
            AuditEvent(at=dt.datetime(2026, 1, 1), action=AuditAction.VIEW),
            seq=1,
            prev_mac=GENESIS,
        )


def test_an_entry_has_no_free_text_field() -> None:
    names = {f.name for f in dataclasses.fields(AuditEntry)}
    assert names == {
        "seq",
        "at",
        "actor_id",
        "role",
        "action",
        "entity",
        "entity_id",
        "version",
        "outcome",
        "prev_mac",
        "mac",
    }
    typed = {f.name: f.type for f in dataclasses.fields(AuditEvent)}
    assert "str" not in {str(t) for t in typed.values()} - {"str | None"}
