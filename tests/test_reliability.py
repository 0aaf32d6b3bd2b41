"""Reliability with SECURITY.md's figures: concurrency, no lost update, crashes, faults, backups."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path

from instrument.access import SYSTEM, Actor
from instrument.assessment import Rating
from instrument.definition import Instrument
from instrument.errors import ConflictError
from instrument.service import Service
from tests.store_support import PASSWORD, complete, dump, make_team, open_service

REPO = Path(__file__).resolve().parent.parent
THREADS = 8
SAVES = 1_000
DRAFTS = 10


def _rating(token: str) -> Rating:
    return Rating(presence="omit", evidence=token)


def test_concurrent_autosave_loses_and_duplicates_nothing(
    tmp_path: Path, instrument: Instrument
) -> None:
    """SECURITY.md 2: 8 threads, own connections, 1,000 autosaves over 10 drafts."""
    db = tmp_path / "c.db"
    team = make_team(db)
    for number in range(DRAFTS):
        team.service.create_case(team.psychologist, f"D-{number}", "engaged")
        team.service.start_assessment(team.psychologist, f"D-{number}")
    items = [item.id for item in instrument.items]
    acknowledged: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    errors: list[BaseException] = []
    lock = threading.Lock()
    counter = iter(range(SAVES))

    def worker(index: int) -> None:
        service = Service.open(db, clock=team.clock, hasher=team.service.hasher)
        rng = random.Random(index)
        try:
            while True:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                reference = f"D-{rng.randrange(DRAFTS)}"
                item = rng.choice(items)
                token = f"save-{number}"
                while True:  # a conflict is reported, never silent: reload and try again
                    revision = service.get_assessment(team.psychologist, reference, 1).revision
                    try:
                        draft = service.save_rating(
                            team.psychologist,
                            reference,
                            1,
                            item,
                            _rating(token),
                            base_revision=revision,
                        )
                    except ConflictError:
                        continue
                    with lock:
                        acknowledged[reference].append((draft.revision, item, token))
                    break
        except BaseException as error:
            errors.append(error)
        finally:
            service.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []  # 0 `database is locked`, 0 other failures
    assert sum(len(saves) for saves in acknowledged.values()) == SAVES
    for number in range(DRAFTS):
        reference = f"D-{number}"
        saves = sorted(acknowledged[reference])
        draft = team.service.get_assessment(team.psychologist, reference, 1)
        revisions = [revision for revision, _, _ in saves]
        assert revisions == list(range(2, len(saves) + 2))  # 0 duplicated
        assert draft.revision == len(saves) + 1  # each revision is one acknowledged save
        last: dict[str, str] = {}
        for _, item, token in saves:
            last[item] = token
        assert {i: r.evidence for i, r in draft.assessment.ratings.items()} == last  # 0 lost
    assert team.service.store.verify_audit().ok


def test_interleaved_sessions_never_overwrite_silently(tmp_path: Path) -> None:
    """SECURITY.md 3: two sessions interleave 500 edits; every stale save is refused."""
    db = tmp_path / "i.db"
    team = make_team(db)
    team.service.create_case(team.psychologist, "C-1", "engaged")
    first = team.service.start_assessment(team.psychologist, "C-1")
    sessions = [team.service, Service.open(db, clock=team.clock, hasher=team.service.hasher)]
    known = [first.revision, first.revision]
    actual = first.revision
    rng = random.Random(3)
    conflicts = reported = 0
    for edit in range(500):
        who = rng.randrange(2)
        stale = known[who] != actual
        try:
            draft = sessions[who].save_rating(
                team.psychologist,
                "C-1",
                1,
                "ID1",
                _rating(f"edit-{edit}"),
                base_revision=known[who],
            )
        except ConflictError as error:
            message = str(error)
            assert stale, "a current save was refused"
            assert "changed by pat" in message
            reported += 1
            known[who] = sessions[who].get_assessment(team.psychologist, "C-1", 1).revision
            continue
        assert not stale, "a stale save overwrote silently"
        actual = known[who] = draft.revision
        conflicts += stale
    assert reported > 50
    assert conflicts == 0


def test_interleaved_tabs_merge_fields_and_never_overwrite_silently(tmp_path: Path) -> None:
    """SECURITY.md 3 with merging: two tabs interleave 500 edits of three items' fields.

    Each tab edits from the draft it last loaded. A stale edit of a field the other tab did not
    change is merged (kept alongside theirs); one of a field the other tab changed is refused and
    reported. After every save, each field holds exactly what the model says: 0 silent
    overwrites, every conflict a real one.
    """
    db = tmp_path / "m.db"
    team = make_team(db)
    team.service.create_case(team.psychologist, "C-1", "engaged")
    first = team.service.start_assessment(team.psychologist, "C-1")
    sessions = [team.service, Service.open(db, clock=team.clock, hasher=team.service.hasher)]
    views = [first, first]
    stored = first
    rng = random.Random(5)
    merged = reported = 0
    for edit in range(500):
        who = rng.randrange(2)
        if rng.random() < 0.2:  # a tab sometimes reloads
            views[who] = sessions[who].get_assessment(team.psychologist, "C-1", 1)
        item = rng.choice(["ID1", "ID2", "ID3"])
        field = rng.choice(["evidence", "timeframe"])
        base = views[who].assessment.ratings.get(item)
        before = (base or Rating(presence="omit")).model_dump()
        value = f"edit-{edit}" if field == "evidence" else rng.choice(["current", "historical"])
        mine = Rating.model_validate({**before, field: value})
        previous = stored.assessment.ratings.get(item)
        theirs = (previous or Rating(presence="omit")).model_dump()
        try:
            draft = sessions[who].save_rating(
                team.psychologist,
                "C-1",
                1,
                item,
                mine,
                base_revision=views[who].revision,
                merge=True,
                base=base,
            )
        except ConflictError as error:
            where = error.where
            assert where == f"$.ratings.{item}.{field}"
            assert theirs[field] != before[field] != value, "a conflict that was not one"
            assert theirs[field] != value
            reported += 1
            views[who] = sessions[who].get_assessment(team.psychologist, "C-1", 1)
            assert views[who].revision == stored.revision  # nothing written
            continue
        merged += views[who].revision != stored.revision
        after = draft.assessment.ratings
        changed = value != before[field]  # an unchanged value leaves theirs as it is
        assert after[item].model_dump()[field] == (value if changed else theirs[field])
        expected = {k: v for k, v in theirs.items() if k != field}
        assert {k: v for k, v in after[item].model_dump().items() if k != field} == expected
        for other, rating in stored.assessment.ratings.items():
            if other != item:
                assert after[other] == rating, "another item changed"
        stored = views[who] = draft
    assert merged > 50
    assert reported > 20


KILLS = 20


def _acks(output: str) -> list[list[str]]:
    return [line.split()[1:] for line in output.splitlines() if line.startswith("ACK ")]


def test_sigkill_mid_write_loses_no_acknowledged_commit(tmp_path: Path) -> None:
    """SECURITY.md 4: SIGKILL at a random moment, 20 times; every check after each.

    The child is forked (the package is already imported, so each run takes a fraction of a
    second); it opens its own connection and writes `ACK ...` to a pipe after each commit.
    """
    from tests.crash_child import work

    db = tmp_path / "k.db"
    service = open_service(db)
    service.add_user(SYSTEM, "pat", "psychologist", PASSWORD)
    service.close()
    rng = random.Random(4)
    for run in range(KILLS):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: work until killed
            os.close(read_end)
            try:
                work(db, run, os.fdopen(write_end, "w", buffering=1))
            finally:
                os._exit(1)
        os.close(write_end)
        reader = os.fdopen(read_end)
        first = reader.readline()  # started: the first commit was acknowledged
        time.sleep(rng.uniform(0.0, 0.3))  # then a random moment, mid-write most likely
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        out = first + reader.read()
        reader.close()
        assert os.WIFSIGNALED(status)
        assert os.WTERMSIG(status) == signal.SIGKILL
        acks = _acks(out)
        assert acks
        _check_after_crash(db, acks)


def _check_after_crash(db: Path, acks: list[list[str]]) -> None:
    conn = sqlite3.connect(db)  # a raw look from outside, as an auditor would
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {
            (ref, version): (status, revision)
            for ref, version, status, revision in conn.execute(
                "SELECT c.reference, a.version, a.status, a.revision FROM assessments a"
                " JOIN cases c ON c.id = a.case_id"
            )
        }
        for ack in acks:  # 0 acknowledged commits missing
            if ack[0] == "save":
                status, revision = stored[(ack[1], int(ack[2]))]
                assert status == "final" or revision >= int(ack[3])
            else:
                assert stored[(ack[1], int(ack[2]))][0] == "final"
        # 0 half operations: every final has its formulation and signature; every revision
        # has its audit entry (the change and its entry commit together).
        half = conn.execute(
            "SELECT count(*) FROM assessments a WHERE a.status = 'final' AND ("
            " NOT EXISTS (SELECT 1 FROM formulations f WHERE f.assessment_id = a.id"
            "   AND f.assessment_sha256 = a.sha256)"
            " OR NOT EXISTS (SELECT 1 FROM signatures s WHERE s.assessment_id = a.id))"
        ).fetchone()[0]
        assert half == 0
        mismatched = conn.execute(
            "SELECT count(*) FROM assessments a JOIN cases c ON c.id = a.case_id WHERE"
            " a.revision - 1 != (SELECT count(*) FROM audit_log l WHERE l.entity = 'case'"
            "   AND l.entity_id = c.id AND l.version = a.version AND l.outcome = 'ok'"
            "   AND l.action IN ('save', 'finalise'))"
        ).fetchone()[0]
        assert mismatched == 0
        assert (
            conn.execute(
                "SELECT count(*) FROM cases c WHERE c.latest_version !="
                " (SELECT coalesce(max(version), 0) FROM assessments a WHERE a.case_id = c.id)"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()
    service = open_service(db)
    try:
        assert service.store.verify_audit().ok
    finally:
        service.close()


class Fault(Exception):
    """Raised by the fault hook at one chosen statement."""


def _faults(service: Service, operation: object, *, limit: int = 200) -> int:
    """Raise at statement 1, 2, ... of the operation until it completes; check each rollback."""
    assert callable(operation)
    db = service.store.path
    before = dump(db)
    for step in range(1, limit):
        calls = 0

        def hook(step: int = step) -> None:
            nonlocal calls
            calls += 1
            if calls == step:
                raise Fault(step)

        service.store.fault = hook
        try:
            operation()
        except Fault:
            assert dump(db) == before, f"a fault at statement {step} left a change behind"
            continue
        finally:
            service.store.fault = None
        assert dump(db) != before
        return step
    raise AssertionError("the operation never completed")


def test_a_fault_at_every_step_leaves_the_state_before_or_after(
    tmp_path: Path, instrument: Instrument
) -> None:
    """SECURITY.md 5: finalise, amend, override and import, a fault at each statement."""
    team = make_team(tmp_path / "f.db")
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-1", "engaged")
    s.start_assessment(pat, "C-1")
    complete(s, pat, "C-1", 1, instrument)
    s.confirm_password(pat, PASSWORD)
    steps = {}
    steps["override"] = _faults(
        s,
        lambda: s.set_override(pat, "C-1", 1, "identity", "high", "A rationale of some length."),
    )
    steps["finalise"] = _faults(s, lambda: s.finalise(pat, "C-1", 1))
    steps["amend"] = _faults(s, lambda: s.amend(pat, "C-1", 1, "A reason."))
    document = (REPO / "formulations" / "wc-02-grievance.assessment.json").read_bytes()
    steps["import"] = _faults(s, lambda: s.import_assessment(pat, document))
    assert min(steps.values()) >= 3, steps
    assert steps["finalise"] >= 6, steps


def test_backup_while_writers_run_restores_every_case(tmp_path: Path) -> None:
    """SECURITY.md 7: a backup taken under load is complete, verifies, and restores."""
    db = tmp_path / "w.db"
    team = make_team(db)
    for number in range(50):
        team.service.create_case(team.psychologist, f"B-{number}", "engaged")
    stop = threading.Event()
    created: list[str] = []

    def writer(index: int) -> None:
        service = Service.open(db, clock=team.clock, hasher=team.service.hasher)
        number = 0
        try:
            while not stop.is_set():
                reference = f"W{index}-{number}"
                service.create_case(team.psychologist, reference, "engaged")
                created.append(reference)
                number += 1
        finally:
            service.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    before = set(created)
    report = team.service.backup(SYSTEM, tmp_path / "backup.db")
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    assert report.counts["cases"] >= 50 + len(before)
    restored_path = tmp_path / "restored.db"
    restored_path.write_bytes((tmp_path / "backup.db").read_bytes())
    restored = Service.open(
        restored_path,
        key_path=Path(str(db) + ".key"),
        clock=team.clock,
        hasher=team.service.hasher,
    )
    actor = Actor(team.psychologist.user_id, "pat", team.psychologist.role, "north")
    references = {row.reference for row in restored.list_cases(actor)}
    assert {f"B-{n}" for n in range(50)} <= references
    assert before <= references
    assert restored.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert restored.store.verify_audit().ok
