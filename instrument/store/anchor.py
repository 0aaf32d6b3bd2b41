"""The audit chain's head, anchored outside the database (SECURITY.md 21).

The database keeps its own head (`audit_head`), but whoever can rewrite the database can rewrite
that too: drop every entry and the head, cut the tail and put an older head back, or replace
the whole file with an older copy. So after every write the head (seq, MAC, time) is also kept
in a small file beside the audit key, keyed with the audit key so it cannot be forged, written
to a temporary file (0600) and renamed over the old one (atomic). At every open and by
`instrument audit verify` the database's chain is compared with it:

* the same seq and MAC: intact;
* the database is behind the file: entries are missing (a wiped log, a cut tail, an older
  copy of the database): reported, writes refused until `instrument audit restore` re-anchors;
* the database is ahead and the entry at the file's seq has the file's MAC: the file lagged
  (a crash between the commit and the file's replacement): it is moved forward;
* anything else: the database's chain is not the one anchored (another database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from instrument.errors import StoreError

LOG = logging.getLogger("instrument.store")


@dataclass(frozen=True)
class Anchor:
    """The head recorded outside the database: the last seq, its MAC, and when."""

    seq: int
    mac: str
    at: str


def anchor_path(key_path: Path) -> Path:
    """Return the anchor file beside a key: `instrument.db.key` → `instrument.db.head`."""
    name = key_path.name.removesuffix(".key")
    return key_path.with_name(name + ".head")


def _mac(key: bytes, seq: int, mac: str, at: str) -> str:
    message = f"anchor:{seq}:{mac}:{at}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def read_anchor(path: Path, key: bytes) -> Anchor | None:
    """Return the anchor in `path`, or None when there is no file.

    Raises:
        StoreError: when the file is not an anchor made with this key.
    """
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(
            f"the audit anchor {path} cannot be read: {error}",
            where=str(path),
            fix="restore it, or re-anchor with `instrument audit restore`",
        ) from None
    try:
        data = json.loads(text)
        anchor = Anchor(int(data["seq"]), str(data["mac"]), str(data["at"]))
        good = hmac.compare_digest(str(data["anchor_mac"]), _mac(key, *_fields(anchor)))
    except (ValueError, KeyError, TypeError):
        good = False
    if not good:
        raise StoreError(
            f"the audit anchor {path} was not made with this audit key",
            where=str(path),
            fix="use the audit key of this database, or re-anchor with `instrument audit restore`",
        )
    return anchor


def _fields(anchor: Anchor) -> tuple[int, str, str]:
    return anchor.seq, anchor.mac, anchor.at


def write_anchor(path: Path, key: bytes, seq: int, mac: str, now: dt.datetime) -> None:
    """Replace the anchor atomically (temporary 0600 file, fsync, rename over the old one)."""
    at = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    document = {
        "seq": seq,
        "mac": mac,
        "at": at,
        "anchor_mac": _mac(key, seq, mac, at),
    }
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, json.dumps(document).encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def advance_anchor(path: Path, key: bytes, seq: int, mac: str, now: dt.datetime) -> None:
    """Move the anchor forward to (seq, mac); never backwards (another process may be ahead).

    A failure to write is logged, not raised: the change is committed already, and a lagging
    anchor is recognised (and moved forward) at the next open.
    """
    try:
        current = read_anchor(path, key)
        if current is not None and current.seq >= seq:
            return
        write_anchor(path, key, seq, mac, now)
    except (OSError, StoreError) as error:
        LOG.warning("the audit anchor %s was not updated: %s", path, error)


def anchor_problem(anchor: Anchor, head_seq: int, head_mac: str, mac_at_anchor: str | None) -> str:
    """Return what is wrong between the anchor and the database's head ("" when they agree).

    Args:
        anchor: the head recorded outside the database.
        head_seq: the last seq of the database's chain.
        head_mac: its MAC.
        mac_at_anchor: the MAC of the database's entry at the anchor's seq (None when absent).
    """
    if head_seq == anchor.seq and hmac.compare_digest(head_mac, anchor.mac):
        return ""
    if head_seq < anchor.seq:
        first = head_seq + 1
        return (
            f"audit entries {first} to {anchor.seq} are missing: the anchor outside the database "
            f"recorded seq {anchor.seq} at {anchor.at}, the database ends at seq {head_seq} "
            "(a wiped log, a cut tail, or an older copy of the database)"
        )
    if mac_at_anchor is not None and hmac.compare_digest(mac_at_anchor, anchor.mac):
        return ""  # the anchor lagged behind a commit: the caller moves it forward
    return (
        f"the database's audit chain is not the one anchored at {anchor.at} (seq {anchor.seq}): "
        "the database was replaced or its log rewritten"
    )
