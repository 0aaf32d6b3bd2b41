"""Case store: the case list and one case with 10,000 cases and 50,000 versions, autosave, audit.

The big database is built once in a temporary folder (rows written straight through the store's
write path, not through the service, to keep the build short); the figures are then measured
through the service, each against a raw `sqlite3` query of the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

from benchmarks.harness import Row, median_ms
from instrument.access import SYSTEM, Actor
from instrument.assessment import Rating
from instrument.audit import AuditAction, AuditEvent
from instrument.definitions import default_instrument
from instrument.service import Service
from instrument.store.sqlite.cases import LIST_SQL
from instrument.store.sqlite.migrations import SUMMARY_REFRESH

CASES = 10_000
VERSIONS = 5  # 4 finals and 1 draft per case: 50,000 versions
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"


def _document(reference: str, version: int, status: str) -> str:
    instrument = default_instrument()
    ratings = {
        item.id: {
            "presence": "partial",
            "relevance": "moderate",
            "evidence": "Fictional evidence for the benchmark.",
            "sources": ["interview"],
        }
        for item in instrument.items
    }
    return json.dumps(
        {
            "instrument": {"id": instrument.id, "version": instrument.version},
            "case": {"reference": reference, "pathway": "engaged"},
            "assessment": {
                "version": version,
                "status": status,
                "assessed_on": "2026-11-01",
                "assessors": [{"name": "A. Assessor", "role": "psychologist"}],
            },
            "ratings": ratings,
        }
    )


def _build(folder: Path) -> tuple[Service, Actor]:
    service = Service.open(
        folder / "big.db",
        clock=lambda: T0,
        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
    )
    service.add_team(SYSTEM, "north")
    service.add_user(SYSTEM, "pat", "psychologist", PASSWORD, "north")
    actor = service.session_actor(service.sign_in("pat", PASSWORD))
    assert actor is not None
    now = T0.isoformat()
    with service.store.write() as tx:
        team_id = tx.one("SELECT id FROM teams WHERE name = 'north'")["id"]
        for number in range(CASES):
            reference = f"C-{number:05d}"
            case_id = tx.insert(
                "cases",
                {
                    "team_id": team_id,
                    "reference": reference,
                    "pathway": "engaged",
                    "latest_version": VERSIONS,
                    "latest_final": VERSIONS - 1,
                    "created_at": now,
                },
            )
            for version in range(1, VERSIONS + 1):
                status = "final" if version < VERSIONS else "draft"
                assessment_id = tx.insert(
                    "assessments",
                    {
                        "case_id": case_id,
                        "version": version,
                        "status": status,
                        "revision": 1,
                        "document": _document(reference, version, status),
                        "review": "{}",
                        "sha256": "0" * 64 if status == "final" else None,
                        "assessed_on": "2026-11-01",
                        "assessor": "A. Assessor",
                        "saved_by": actor.user_id,
                        "saved_at": now,
                        "created_at": now,
                    },
                )
                if version == VERSIONS - 1:
                    tx.insert(
                        "formulations",
                        {
                            "assessment_id": assessment_id,
                            "document": "{}",
                            "assessment_sha256": "0" * 64,
                            "top_priority": "identity",
                            "created_at": now,
                        },
                    )
    with service.store.write() as tx:
        tx.execute(SUMMARY_REFRESH)
    service.store.conn.execute("ANALYZE")
    return service, actor


def _raw_list(db: Path) -> object:
    conn = sqlite3.connect(db)
    sql = LIST_SQL + " WHERE t.name = ? ORDER BY c.reference"
    return lambda: conn.execute(sql, ("north",)).fetchall()


def _raw_case(db: Path) -> object:
    conn = sqlite3.connect(db)

    def load() -> object:
        case = conn.execute(
            "SELECT c.*, t.name FROM cases c JOIN teams t ON t.id = c.team_id"
            " WHERE c.reference = ? AND t.name = ?",
            ("C-04321", "north"),
        ).fetchone()
        versions = conn.execute(
            "SELECT a.id, a.version, a.status, a.revision, a.assessed_on, a.replaces, a.saved_at,"
            " u.username FROM assessments a LEFT JOIN users u ON u.id = a.saved_by"
            " WHERE a.case_id = ? ORDER BY a.version",
            (case[0],),
        ).fetchall()
        document = conn.execute(
            "SELECT document, review FROM assessments WHERE case_id = ? AND version = ?",
            (case[0], VERSIONS),
        ).fetchone()
        return versions, json.loads(document[0])

    return load


def run() -> list[Row]:
    """Measure the case list, one case, one autosave and verifying a 10,000-entry chain."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        service, actor = _build(Path(folder))
        built = time.perf_counter() - started
        db = Path(folder) / "big.db"
        rows = len(service.list_cases(actor))
        assert rows == CASES
        list_ms = median_ms(lambda: service.list_cases(actor), repeat=20)
        raw_list = median_ms(_raw_list(db), repeat=20)  # type: ignore[arg-type]
        page_ms = median_ms(lambda: service.list_cases_page(actor, offset=5_000), repeat=20)
        search_ms = median_ms(
            lambda: service.list_cases_page(actor, text="C-09", offset=50), repeat=20
        )

        def load() -> object:
            view = service.open_case(actor, "C-04321")
            return service.get_assessment(actor, "C-04321", view.latest_version or 1)

        load_ms = median_ms(load, repeat=50)
        raw_case = median_ms(_raw_case(db), repeat=50)  # type: ignore[arg-type]
        revision = [service.get_assessment(actor, "C-00007", VERSIONS).revision]
        items = [item.id for item in default_instrument().items]

        def autosave() -> None:
            item = items[revision[0] % len(items)]
            draft = service.save_rating(
                actor,
                "C-00007",
                VERSIONS,
                item,
                Rating(presence="omit", evidence=f"note {revision[0]}"),
                base_revision=revision[0],
            )
            revision[0] = draft.revision

        save_ms = median_ms(autosave, repeat=50)
        service.close()
        chain = Service.open(Path(folder) / "chain.db", clock=lambda: T0)
        with chain.store.write() as tx:
            for number in range(10_000):
                tx.audit(AuditEvent(at=T0, action=AuditAction.VIEW, entity_id=number))
        verify_ms = median_ms(lambda: chain.store.verify_audit(), repeat=5, warmup=1)
        assert chain.store.verify_audit().ok
        chain.close()
    return [
        Row(f"build {CASES:,} cases / {CASES * VERSIONS:,} versions (once)", built * 1000),
        Row(
            f"list cases ({rows:,} rows, audited)",
            list_ms,
            target_ms=100,
            ratio=list_ms / raw_list,
            ratio_to="raw sqlite3 query",
        ),
        Row("one page of the case list (50 of 10,000, with the total)", page_ms, target_ms=20),
        Row("one page of a reference search (with the total)", search_ms, target_ms=50),
        Row(
            "load one case (open + its versions + latest assessment, audited)",
            load_ms,
            target_ms=20,
            ratio=load_ms / raw_case,
            ratio_to="raw sqlite3 queries",
        ),
        Row("one autosave (one rating, revision checked, audited)", save_ms, target_ms=20),
        Row("verify a 10,000-entry audit chain", verify_ms, target_ms=2000),
    ]
