"""Numbered schema migrations, recorded in `schema_migrations` and applied when a store opens.

One list, applied in order, each in its own `BEGIN IMMEDIATE` transaction. Triggers refuse
`UPDATE`/`DELETE` on finalised assessment versions, on formulations, signatures and the audit
log (SECURITY.md 6 and 15), whoever connects.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable

from instrument.audit import timestamp
from instrument.store.sqlite.connection import WRITE_LOCK

# A migration step: a statement (`:now` is bound to the migration's time), or a function that
# does what a statement cannot say.
Step = str | Callable[[sqlite3.Connection], None]

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


def trigger_sql(name: str) -> str:
    """Return the statement that creates one of the freezing triggers."""
    return next(sql for sql in _FROZEN_TRIGGERS if f"TRIGGER {name} " in sql)


_MIGRATION_1: list[Step] = [
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

_MIGRATION_2: list[Step] = [
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
_MIGRATION_3: list[Step] = [
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
_MIGRATION_4: list[Step] = [
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

_MIGRATION_5: list[Step] = [
    """CREATE TABLE rendered_documents (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('html', 'pdf', 'docx', 'png', 'svg')),
        content BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (key, kind))""",
]


# The intervention plan (issue 14): one summary row per case (`plans`, read by the case list and
# its "review due" filter), the plan's versions (documents; an agreed version is frozen like a
# final assessment: its signatures are in it), the delivery log (entries edited per field with a
# revision, never deleted) and the progress reviews (frozen once recorded).
_MIGRATION_6: list[Step] = [
    """CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL UNIQUE REFERENCES cases(id),
        status TEXT NOT NULL CHECK (status IN ('draft', 'agreed', 'ended')),
        latest_version INTEGER NOT NULL CHECK (latest_version >= 1),
        agreed_version INTEGER,
        next_review_on TEXT,
        ending TEXT,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE plan_versions (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        status TEXT NOT NULL CHECK (status IN ('draft', 'agreed')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        document TEXT NOT NULL,
        replaces INTEGER,
        saved_by INTEGER REFERENCES users(id),
        saved_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        agreed_at TEXT,
        UNIQUE (case_id, version))""",
    """CREATE TABLE delivered_sessions (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        number INTEGER NOT NULL CHECK (number >= 1),
        plan_version INTEGER NOT NULL,
        date TEXT NOT NULL,
        attendance TEXT NOT NULL
            CHECK (attendance IN ('attended', 'declined', 'cancelled', 'did-not-attend')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        document TEXT NOT NULL,
        saved_by INTEGER REFERENCES users(id),
        saved_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (case_id, number))""",
    """CREATE TABLE progress_reviews (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        number INTEGER NOT NULL CHECK (number >= 1),
        plan_version INTEGER NOT NULL,
        reviewed_on TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('continues', 'changes', 'ends')),
        document TEXT NOT NULL,
        recorded_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        UNIQUE (case_id, number))""",
    """CREATE TABLE plan_signatures (
        id INTEGER PRIMARY KEY,
        plan_version_id INTEGER NOT NULL REFERENCES plan_versions(id),
        user_id INTEGER REFERENCES users(id),
        signer TEXT NOT NULL,
        meaning TEXT NOT NULL CHECK (meaning = 'agreed by'),
        signed_at TEXT NOT NULL,
        imported INTEGER NOT NULL DEFAULT 0,
        UNIQUE (plan_version_id, signer))""",
    "CREATE INDEX plans_by_review ON plans (status, next_review_on)",
    """CREATE TRIGGER plan_signatures_no_update BEFORE UPDATE ON plan_signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER plan_signatures_no_delete BEFORE DELETE ON plan_signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER plan_versions_agreed_no_update BEFORE UPDATE ON plan_versions
       WHEN OLD.status = 'agreed'
       BEGIN SELECT RAISE(ABORT, 'an agreed plan version is frozen'); END""",
    """CREATE TRIGGER plan_versions_no_delete BEFORE DELETE ON plan_versions
       BEGIN SELECT RAISE(ABORT, 'plan versions are never deleted'); END""",
    """CREATE TRIGGER delivered_sessions_no_delete BEFORE DELETE ON delivered_sessions
       BEGIN SELECT RAISE(ABORT, 'delivery log entries are never deleted'); END""",
    """CREATE TRIGGER progress_reviews_no_update BEFORE UPDATE ON progress_reviews
       BEGIN SELECT RAISE(ABORT, 'a recorded review is frozen'); END""",
    """CREATE TRIGGER progress_reviews_no_delete BEFORE DELETE ON progress_reviews
       BEGIN SELECT RAISE(ABORT, 'a recorded review is frozen'); END""",
]


def _allow_facilitators(conn: sqlite3.Connection) -> None:
    """Rebuild `users` so that its role check admits `facilitator` (SQLite cannot alter a CHECK).

    The table's own stored definition is rewritten (so columns added by other migrations stay),
    rows are copied with their ids, and the new table takes the old name: the references of
    sessions, cases and assessments still name `users`. Runs with foreign keys off (the migration
    is marked as a rebuild), checked with `foreign_key_check` before it commits.
    """
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
    create = str(row.fetchone()[0])
    if "'facilitator'" in create:
        return
    check = re.compile(r"CHECK \(role IN \(([^)]*)\)\)")
    found = check.search(create)
    if found is None:
        raise sqlite3.DatabaseError("the users table has no role check to widen")
    widened = check.sub(f"CHECK (role IN ({found.group(1)}, 'facilitator'))", create, count=1)
    rebuilt = widened.replace("CREATE TABLE users", "CREATE TABLE users_rebuilt", 1)
    columns = ", ".join(
        f'"{info[1]}"' for info in conn.execute("PRAGMA table_info(users)").fetchall()
    )
    indexes = [
        str(sql)
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'"
            " AND sql IS NOT NULL"
        ).fetchall()
    ]
    conn.execute(rebuilt)
    conn.execute(f"INSERT INTO users_rebuilt ({columns}) SELECT {columns} FROM users")
    conn.execute("DROP TABLE users")
    conn.execute("ALTER TABLE users_rebuilt RENAME TO users")
    for sql in indexes:
        conn.execute(sql)


_MIGRATION_6.append(_allow_facilitators)

# Migrations that rebuild a table others refer to run with foreign keys off (they cannot be
# switched inside a transaction), as SQLite's "making other kinds of table schema changes" says.
_REBUILDS = {6}

# SECURITY.md 24 and 28: a password re-entry belongs to the session that made it (signing in
# counts as one), and a new or reset account holds a one-time password to be changed first.
_MIGRATION_7: list[Step] = [
    "ALTER TABLE sessions ADD COLUMN confirmed_at TEXT",
    "ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0",
    # SECURITY.md 23: an imported signature says who imported it, and when.
    "ALTER TABLE signatures ADD COLUMN imported_by TEXT",
    "ALTER TABLE signatures ADD COLUMN imported_at TEXT",
    # Set once the audit head is also kept outside the database (SECURITY.md 21): from then
    # on a missing anchor file is reported, never silently re-created.
    """CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        created_at TEXT NOT NULL)""",
]

ANCHOR_MIGRATION = 7
"""The migration that adds `audit_anchor`."""

# The assessor's summary judgement "no intervention indicated" (issue 13) closes a case without a
# plan: the final formulation records it, and the case list reads it from the case row like the
# other summary columns. No stored formulation before this migration can hold it (the judgement
# came with it), so nothing is backfilled.
_MIGRATION_8: list[Step] = [
    "ALTER TABLE formulations ADD COLUMN no_intervention INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE cases ADD COLUMN no_intervention INTEGER NOT NULL DEFAULT 0",
]

SUMMARY_REFRESH_8 = (
    SUMMARY_REFRESH
    + """,
    no_intervention = coalesce((SELECT f.no_intervention FROM formulations f
        JOIN assessments a ON a.id = f.assessment_id
        WHERE a.case_id = cases.id AND a.version = cases.latest_final), 0)"""
)
"""The case row's list columns as refreshed from migration 8 on."""

MIGRATIONS: list[tuple[int, str, list[Step]]] = [
    (1, "tables, default team and the triggers that freeze finals and the audit log", _MIGRATION_1),
    (
        2,
        "indexes for the case list, versions, signatures, sessions and audit queries",
        _MIGRATION_2,
    ),
    (3, "summary columns on cases for the case list", _MIGRATION_3),
    (4, "field history of drafts (append-only)", _MIGRATION_4),
    (5, "rendered documents of final formulations, keyed by the formulation's hash", _MIGRATION_5),
    (
        6,
        "intervention plans, plan versions, delivered sessions, progress reviews; facilitators",
        _MIGRATION_6,
    ),
    (7, "password re-entry per session; one-time passwords; audit anchor", _MIGRATION_7),
    (8, "no intervention indicated on formulations and the case list", _MIGRATION_8),
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
            rebuild = number in _REBUILDS
            if rebuild:
                conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE number = ?", (number,)
                ).fetchone()
                if done is None:
                    for statement in statements:
                        if callable(statement):
                            statement(conn)
                            continue
                        params = {"now": timestamp(now)} if ":now" in statement else ()
                        conn.execute(statement, params)
                    if rebuild and conn.execute("PRAGMA foreign_key_check").fetchone():
                        raise sqlite3.IntegrityError("a rebuilt table broke a foreign key")
                    conn.execute(
                        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                        (number, name, timestamp(now)),
                    )
                    applied.append(number)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                if rebuild:
                    conn.execute("PRAGMA foreign_keys = ON")
    return applied
