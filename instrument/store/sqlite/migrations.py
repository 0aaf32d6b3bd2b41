"""Numbered schema migrations, recorded in `schema_migrations` and applied when a store opens.

One list, applied in order, each in its own `BEGIN IMMEDIATE` transaction. Triggers refuse
`UPDATE`/`DELETE` on finalised assessment versions, on formulations, signatures and the audit
log (SECURITY.md 6 and 15), whoever connects.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from instrument.audit import timestamp
from instrument.store.sqlite.connection import WRITE_LOCK

_FROZEN_TRIGGERS = [
    """CREATE TRIGGER assessments_final_no_update BEFORE UPDATE ON assessments
       WHEN OLD.status = 'final'
       BEGIN SELECT RAISE(ABORT, 'a finalised assessment version is frozen'); END""",
    """CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments
       BEGIN SELECT RAISE(ABORT, 'assessment versions are never deleted'); END""",
    """CREATE TRIGGER assessments_version_fixed BEFORE UPDATE OF case_id, version ON assessments
       WHEN NEW.case_id IS NOT OLD.case_id OR NEW.version IS NOT OLD.version
       BEGIN SELECT RAISE(ABORT, 'an assessment version keeps its case and number'); END""",
    """CREATE TRIGGER formulations_no_update BEFORE UPDATE ON formulations
       BEGIN SELECT RAISE(ABORT, 'a stored formulation is frozen'); END""",
    """CREATE TRIGGER formulations_no_delete BEFORE DELETE ON formulations
       BEGIN SELECT RAISE(ABORT, 'a stored formulation is frozen'); END""",
    """CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]

_MIGRATION_1 = [
    """CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at TEXT NOT NULL)""",
    "INSERT INTO teams (name, created_at) VALUES ('default', :now)",
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'psychologist', 'supervisor', 'viewer')),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        failed_count INTEGER NOT NULL DEFAULT 0,
        lockouts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        confirmed_at TEXT,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT)""",
    """CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        team_id INTEGER NOT NULL REFERENCES teams(id),
        reference TEXT NOT NULL,
        pathway TEXT NOT NULL CHECK (pathway IN ('prevention', 'engaged', 'convicted')),
        latest_version INTEGER NOT NULL DEFAULT 0,
        latest_final INTEGER,
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        UNIQUE (team_id, reference))""",
    """CREATE TABLE assessments (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        status TEXT NOT NULL CHECK (status IN ('draft', 'final')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        document TEXT NOT NULL,
        review TEXT NOT NULL,
        sha256 TEXT,
        replaces INTEGER,
        assessed_on TEXT,
        assessor TEXT,
        saved_by INTEGER REFERENCES users(id),
        saved_at TEXT NOT NULL,
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        finalised_at TEXT,
        UNIQUE (case_id, version),
        CHECK (status = 'draft' OR sha256 IS NOT NULL))""",
    """CREATE TABLE formulations (
        id INTEGER PRIMARY KEY,
        assessment_id INTEGER NOT NULL UNIQUE REFERENCES assessments(id),
        document TEXT NOT NULL,
        assessment_sha256 TEXT NOT NULL,
        top_priority TEXT,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE signatures (
        id INTEGER PRIMARY KEY,
        assessment_id INTEGER NOT NULL REFERENCES assessments(id),
        user_id INTEGER REFERENCES users(id),
        signer TEXT NOT NULL,
        meaning TEXT NOT NULL CHECK (meaning IN ('finalised by', 'countersigned by')),
        signed_at TEXT NOT NULL,
        assessment_sha256 TEXT NOT NULL,
        imported INTEGER NOT NULL DEFAULT 0,
        UNIQUE (assessment_id, meaning, signer))""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER,
        role TEXT,
        action TEXT NOT NULL,
        entity TEXT,
        entity_id INTEGER,
        version INTEGER,
        outcome TEXT NOT NULL,
        prev_mac TEXT NOT NULL,
        mac TEXT NOT NULL)""",
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        mac TEXT NOT NULL,
        head_mac TEXT NOT NULL)""",
    *_FROZEN_TRIGGERS,
]

_MIGRATION_2 = [
    "CREATE INDEX cases_by_team ON cases (team_id, reference)",
    "CREATE INDEX assessments_by_case ON assessments (case_id, version)",
    "CREATE INDEX signatures_by_assessment ON signatures (assessment_id)",
    "CREATE INDEX sessions_by_user ON sessions (user_id)",
    "CREATE INDEX audit_by_action ON audit_log (action)",
    "CREATE INDEX audit_by_actor ON audit_log (actor_id)",
]

# The case list shows a few columns of each case's latest version and latest final formulation.
# Read through joins they cost three index searches per case and a walk past each version's
# large JSON document; kept on the case row (refreshed in the same transaction as every change
# of a version, see `SUMMARY_REFRESH`), the list is one scan of the cases of a team.
_MIGRATION_3 = [
    "ALTER TABLE cases ADD COLUMN latest_status TEXT",
    "ALTER TABLE cases ADD COLUMN latest_assessed_on TEXT",
    "ALTER TABLE cases ADD COLUMN latest_assessor TEXT",
    "ALTER TABLE cases ADD COLUMN top_priority TEXT",
    "UPDATE cases SET latest_status = NULL",  # placeholder, replaced below by the refresh
]

SUMMARY_REFRESH = """UPDATE cases SET
    latest_status = (SELECT a.status FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    latest_assessed_on = (SELECT a.assessed_on FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    latest_assessor = (SELECT a.assessor FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    top_priority = (SELECT f.top_priority FROM formulations f
        JOIN assessments a ON a.id = f.assessment_id
        WHERE a.case_id = cases.id AND a.version = cases.latest_final)"""
_MIGRATION_3[-1] = SUMMARY_REFRESH

# Field history of drafts: who changed which field, when, from what to what (the content stays
# here, beside the draft; the audit log keeps ids and action codes only). Rows are only added.
_MIGRATION_4 = [
    """CREATE TABLE field_history (
        id INTEGER PRIMARY KEY,
        assessment_id INTEGER NOT NULL REFERENCES assessments(id),
        revision INTEGER NOT NULL,
        field TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL,
        changed_by INTEGER REFERENCES users(id),
        changed_at TEXT NOT NULL
    )""",
    "CREATE INDEX field_history_by_assessment ON field_history (assessment_id, id)",
    """CREATE TRIGGER field_history_no_update BEFORE UPDATE ON field_history
    BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END""",
    """CREATE TRIGGER field_history_no_delete BEFORE DELETE ON field_history
    BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END""",
]

_MIGRATION_5 = [
    """CREATE TABLE rendered_documents (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('html', 'pdf', 'docx', 'png', 'svg')),
        content BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (key, kind))""",
]

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "tables, default team and the triggers that freeze finals and the audit log", _MIGRATION_1),
    (
        2,
        "indexes for the case list, versions, signatures, sessions and audit queries",
        _MIGRATION_2,
    ),
    (3, "summary columns on cases for the case list", _MIGRATION_3),
    (4, "field history of drafts (append-only)", _MIGRATION_4),
    (5, "rendered documents of final formulations, keyed by the formulation's hash", _MIGRATION_5),
]


def migrate(conn: sqlite3.Connection, now: dt.datetime, *, upto: int | None = None) -> list[int]:
    """Apply the pending numbered migrations (each in its own BEGIN IMMEDIATE); return them."""
    applied: list[int] = []
    with WRITE_LOCK:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for number, name, statements in MIGRATIONS:
            if upto is not None and number > upto:
                break
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE number = ?", (number,)
                ).fetchone()
                if done is None:
                    for statement in statements:
                        params = {"now": timestamp(now)} if ":now" in statement else ()
                        conn.execute(statement, params)
                    conn.execute(
                        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                        (number, name, timestamp(now)),
                    )
                    applied.append(number)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    return applied
