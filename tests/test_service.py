"""The service's use cases: sign-in and sessions, cases, drafts with revisions, signatures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from instrument.access import SYSTEM, Role
from instrument.assessment import Rating
from instrument.definition import Instrument
from instrument.definitions import current_instrument
from instrument.errors import (
    AuthenticationError,
    ConflictError,
    DocumentError,
    NotFoundError,
    PermissionDeniedError,
)
from instrument.vocabulary import AssessmentStatus
from tests.store_support import (
    PASSWORD,
    Clock,
    Team,
    complete,
    install_versions,
    make_team,
    open_service,
)


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "t.db")


def test_first_run_creates_admin_once(tmp_path: Path) -> None:
    service = open_service(tmp_path / "a.db")
    password = service.ensure_admin()
    assert password is not None
    assert len(password) >= 15
    assert service.ensure_admin() is None
    assert service.session_actor(service.sign_in("admin", password)).role is Role.ADMIN


def test_sign_in_has_one_message_for_every_failure(team: Team) -> None:
    s = team.service
    messages = set()
    for username, password in (("nobody", PASSWORD), ("pat", "wrong password here")):
        with pytest.raises(AuthenticationError) as error:
            s.sign_in(username, password)
        messages.add(str(error.value))
    assert len(messages) == 1


def test_lockout_after_five_failures_doubles(team: Team) -> None:
    s, clock = team.service, team.clock
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            s.sign_in("pat", "wrong password here")
    with pytest.raises(AuthenticationError):
        s.sign_in("pat", PASSWORD)  # locked, even with the right password
    clock.advance(minutes=15, seconds=1)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            s.sign_in("pat", "wrong password here")
    clock.advance(minutes=16)
    with pytest.raises(AuthenticationError):
        s.sign_in("pat", PASSWORD)  # the second lockout lasts 30 minutes
    clock.advance(minutes=15)
    assert s.sign_in("pat", PASSWORD)
    actions = [e.action for e in s.store.audit_entries(action="lockout")]
    assert actions == ["lockout", "lockout"]


def test_sessions_expire_idle_and_absolute(team: Team) -> None:
    s, clock = team.service, team.clock
    sid = s.sign_in("pat", PASSWORD)
    clock.advance(minutes=14, seconds=59)
    assert s.session_actor(sid) is not None
    assert s.session_expires_in(sid) == dt.timedelta(minutes=15)
    clock.advance(minutes=15, seconds=1)
    assert s.session_actor(sid) is None
    assert s.session_actor(sid) is None  # stays ended
    sid = s.sign_in("pat", PASSWORD)
    for _ in range(41):  # active all day, never idle for long
        clock.advance(minutes=14, seconds=50)
        if s.session_actor(sid) is None:
            break
    assert s.session_actor(sid) is None
    assert len(s.store.audit_entries(action="timeout")) == 2


def test_sign_out_ends_the_session_in_every_tab(team: Team) -> None:
    s = team.service
    sid = s.sign_in("pat", PASSWORD)
    assert s.session_actor(sid) is not None
    s.sign_out(sid)
    assert s.session_actor(sid) is None
    other = s.sign_in("pat", PASSWORD)
    s.sign_out_everywhere(team.psychologist)
    assert s.session_actor(other) is None


def test_deactivating_a_user_ends_their_sessions(team: Team) -> None:
    s = team.service
    sid = s.sign_in("pat", PASSWORD)
    s.deactivate(team.admin, "pat")
    assert s.session_actor(sid) is None
    with pytest.raises(AuthenticationError):
        s.sign_in("pat", PASSWORD)
    with pytest.raises(AuthenticationError):
        s.list_cases(team.psychologist)  # a stale actor object is refused too


def test_password_rules_apply_to_new_users(team: Team) -> None:
    with pytest.raises(DocumentError, match="at least 15"):
        team.service.add_user(team.admin, "newbie", "viewer", "short")
    long_password = "p" * 64
    team.service.add_user(team.admin, "newbie", "viewer", long_password, "north")
    assert team.service.sign_in("newbie", long_password)


def test_passwords_use_argon2id_defaults_and_rehash(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from instrument.service import Service

    db = tmp_path / "r.db"
    cheap = open_service(db)
    cheap.add_user(SYSTEM, "pat", "psychologist", PASSWORD)
    cheap.close()
    service = Service.open(db)
    assert service.hasher.time_cost == PasswordHasher().time_cost == 3
    assert service.hasher.memory_cost == 65536
    service.sign_in("pat", PASSWORD)
    stored = service.store.conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert [e.action for e in service.store.audit_entries(action="password-rehash")]


def test_case_lifecycle(team: Team, instrument: Instrument) -> None:
    s, pat, sam = team.service, team.psychologist, team.supervisor
    view = s.create_case(pat, "C-1", "engaged")
    assert view.team == "north"
    draft = s.start_assessment(pat, "C-1")
    assert (draft.version, draft.revision, draft.status) == (1, 1, AssessmentStatus.DRAFT)
    with pytest.raises(ConflictError, match="open draft"):
        s.start_assessment(pat, "C-1")
    draft = complete(s, pat, "C-1", 1, instrument)
    assert s.finalisation_problems(pat, "C-1", 1) == []
    with pytest.raises(AuthenticationError, match="password"):
        s.finalise(pat, "C-1", 1)
    s.confirm_password(pat, PASSWORD)
    formulation = s.finalise(pat, "C-1", 1)
    assert formulation.header.status == "final"
    assert s.formulation(pat, "C-1", 1) == formulation
    with pytest.raises(ConflictError, match="final"):
        s.save_rating(pat, "C-1", 1, "ID1", None, base_revision=draft.revision + 1)
    s.confirm_password(sam, PASSWORD)
    s.countersign(sam, "C-1", 1)
    history = s.case_history(pat, "C-1")
    assert [sig.meaning for sig in history[0].signatures] == ["finalised by", "countersigned by"]
    amended = s.amend(pat, "C-1", 1, "Corrected a date.")
    assert (amended.version, amended.replaces) == (2, 1)
    assert amended.assessment.assessment.amendment_reason == "Corrected a date."
    assert s.get_assessment(pat, "C-1", 1).status is AssessmentStatus.FINAL
    rows = s.list_cases(pat)
    assert [(r.reference, r.status, r.latest_version) for r in rows] == [
        ("C-1", AssessmentStatus.DRAFT, 2)
    ]
    assert rows[0].top_priority == formulation.priorities[0].area


def test_stale_revision_names_who_saved_last(team: Team) -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-2", "prevention")
    draft = s.start_assessment(pat, "C-2")
    s.save_rating(pat, "C-2", 1, "ID1", Rating(presence="no"), base_revision=draft.revision)
    with pytest.raises(ConflictError, match=r"changed by pat at 2026-11-23 10:00:00 UTC"):
        s.save_rating(pat, "C-2", 1, "ID2", Rating(presence="no"), base_revision=draft.revision)


def test_two_tabs_editing_different_items_merge(team: Team) -> None:
    """Tab B saves ID3; tab A, still on the older revision, changes ID4: both are kept."""
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-9", "engaged")
    loaded = s.start_assessment(pat, "C-9")
    s.save_rating(pat, "C-9", 1, "ID3", Rating(presence="no"), base_revision=loaded.revision)
    draft = s.save_rating(
        pat, "C-9", 1, "ID4", Rating(presence="omit"), base_revision=loaded.revision, merge=True
    )
    assert set(draft.assessment.ratings) == {"ID3", "ID4"}


def test_two_tabs_editing_one_item_merge_per_field(team: Team) -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-8", "engaged")
    start = s.start_assessment(pat, "C-8")
    first = Rating(presence="yes", relevance="high", evidence="first", sources=["interview"])
    loaded = s.save_rating(pat, "C-8", 1, "ID1", first, base_revision=start.revision)
    theirs = Rating.model_validate({**first.model_dump(), "evidence": "their evidence"})
    stored = s.save_rating(pat, "C-8", 1, "ID1", theirs, base_revision=loaded.revision)
    # The stale tab changed only the timeframe: their evidence stays, my timeframe is added.
    mine = Rating.model_validate({**first.model_dump(), "timeframe": "current"})
    merged = s.save_rating(
        pat, "C-8", 1, "ID1", mine, base_revision=loaded.revision, merge=True, base=first
    )
    rating = merged.assessment.ratings["ID1"]
    assert (rating.evidence, rating.timeframe) == ("their evidence", "current")
    # The same field changed on both sides: refused, with the field, who and when; nothing stored.
    clash = Rating.model_validate({**first.model_dump(), "evidence": "my evidence"})
    with pytest.raises(ConflictError) as caught:
        s.save_rating(
            pat, "C-8", 1, "ID1", clash, base_revision=loaded.revision, merge=True, base=first
        )
    assert caught.value.where == "$.ratings.ID1.evidence"
    assert "ID1 evidence was changed by pat at" in caught.value.message
    assert "another tab or by another person" in caught.value.message
    assert "revision" not in caught.value.message
    after = s.get_assessment(pat, "C-8", 1)
    assert after.revision == merged.revision
    assert after.assessment.ratings["ID1"].evidence == "their evidence"
    assert stored.revision < merged.revision
    entries = s.audit_entries(team.admin, action="save")
    assert entries[0].outcome == "conflict"


def test_a_present_rating_needs_its_relevance(team: Team) -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-3", "engaged")
    draft = s.start_assessment(pat, "C-3")
    with pytest.raises(DocumentError, match="relevance"):
        s.save_rating(pat, "C-3", 1, "ID1", Rating(presence="yes"), base_revision=draft.revision)
    with pytest.raises(DocumentError, match="unknown item"):
        s.save_rating(pat, "C-3", 1, "ZZ9", Rating(presence="no"), base_revision=draft.revision)


def test_another_teams_case_is_not_found(team: Team) -> None:
    s = team.service
    s.create_case(team.other, "S-1", "engaged")
    with pytest.raises(NotFoundError):
        s.open_case(team.psychologist, "S-1")
    with pytest.raises(NotFoundError):
        s.open_case(team.psychologist, "does-not-exist")
    with pytest.raises(PermissionDeniedError):
        s.open_case(team.admin, "S-1")
    assert s.list_cases(team.psychologist) == []


def test_viewers_get_no_evidence_and_no_names(team: Team, instrument: Instrument) -> None:
    s, pat, vic = team.service, team.psychologist, team.viewer
    s.create_case(pat, "C-4", "engaged")
    s.start_assessment(pat, "C-4")
    complete(s, pat, "C-4", 1, instrument, evidence="CANARY-EVIDENCE")
    with pytest.raises(PermissionDeniedError):
        s.get_assessment(vic, "C-4", 1)
    formulation = s.formulation(vic, "C-4", 1)
    text = formulation.model_dump_json()
    assert formulation.redacted
    assert "CANARY-EVIDENCE" not in text
    assert "A. Assessor" not in text
    assert all(v.saved_by is None for v in s.open_case(vic, "C-4").versions)
    assert s.list_cases(vic)[0].assessor is None


def test_overrides_and_narratives_reach_the_formulation(team: Team) -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-5", "engaged")
    draft = s.start_assessment(pat, "C-5")
    draft = s.set_override(
        pat, "C-5", 1, "identity", "high", "Seen in three sessions; the rule underrates it."
    )
    draft = s.save_narrative(
        pat, "C-5", 1, "presenting", "A fictional narrative.", base_revision=draft.revision
    )
    formulation = s.formulation(pat, "C-5", 1)
    top = next(p for p in formulation.priorities if p.area == "identity")
    assert top.band == "high"
    assert top.override is not None
    assert formulation.review.narratives["presenting"] == "A fictional narrative."
    draft = s.clear_override(pat, "C-5", 1, "identity", base_revision=draft.revision)
    assert draft.review.overrides == {}


def test_clock_must_be_aware(tmp_path: Path) -> None:
    service = open_service(tmp_path / "c.db", Clock())
    service.clock = lambda: dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        service.create_case(SYSTEM, "C-9", "engaged")


def test_session_ids_are_256_random_bits_and_stored_hashed(team: Team) -> None:
    import base64

    sid = team.service.sign_in("pat", PASSWORD)
    assert len(base64.urlsafe_b64decode(sid + "=")) == 32
    stored = [r[0] for r in team.service.store.conn.execute("SELECT id FROM sessions")]
    assert sid not in stored
    assert all(len(key) == 64 for key in stored)


# --- instrument versions ----------------------------------------------------------------------


def test_new_drafts_use_the_newest_installed_version_and_keep_it(
    team: Team, instrument: Instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, pat = team.service, team.psychologist
    shipped = current_instrument()  # the newest shipped version (1.1.0)
    s.create_case(pat, "C-OLD", "engaged")
    old = s.start_assessment(pat, "C-OLD")
    assert (old.assessment.instrument.id, old.assessment.instrument.version) == shipped.key
    install_versions(monkeypatch, instrument, "1.9.0", "1.10.0")  # 1.10 is newer than 1.9
    s.create_case(pat, "C-NEW", "engaged")
    new = s.start_assessment(pat, "C-NEW")
    assert new.assessment.instrument.version == "1.10.0"
    assert s.instrument_of(new).items[0].name == "Renamed in 1.10.0"
    # The draft made before keeps its own version: the form, autosave and formulation use it.
    assert s.instrument_of(s.get_assessment(pat, "C-OLD", 1)).version == shipped.version
    assert s.instrument_of(old).items[0].name == shipped.items[0].name
    for reference in ("C-OLD", "C-NEW"):
        complete(s, pat, reference, 1, instrument)
        version = s.get_assessment(pat, reference, 1).assessment.instrument.version
        assert s.formulation(pat, reference, 1).header.instrument.version == version
    s.confirm_password(pat, PASSWORD)
    assert s.finalise(pat, "C-OLD", 1).header.instrument.version == shipped.version
    assert s.finalise(pat, "C-NEW", 1).header.instrument.version == "1.10.0"


def test_a_draft_of_an_instrument_version_no_longer_installed_says_so(
    team: Team, instrument: Instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, pat = team.service, team.psychologist
    install_versions(monkeypatch, instrument, "2.0.0")
    s.create_case(pat, "C-1", "engaged")
    draft = s.start_assessment(pat, "C-1")
    assert draft.assessment.instrument.version == "2.0.0"
    monkeypatch.undo()  # 2.0.0 is gone: only the shipped versions are installed
    with pytest.raises(
        NotFoundError, match=r"2\.0\.0 is not installed \(installed: ifi 1\.0\.0, ifi 1\.1\.0\)"
    ):
        s.instrument_of(draft)
    with pytest.raises(NotFoundError, match="not installed"):
        s.save_rating(pat, "C-1", 1, "ID1", Rating(presence="no"), base_revision=1)
    assert s.get_assessment(pat, "C-1", 1).revision == 1  # nothing was saved


# --- the paged case list ----------------------------------------------------------------------


def test_the_case_list_comes_one_page_at_a_time_with_the_total(team: Team) -> None:
    s, pat, oli, vic = team.service, team.psychologist, team.other, team.viewer
    for number in range(23):
        s.create_case(pat, f"C-{number:03d}", "convicted" if number % 3 == 0 else "engaged")
    s.create_case(oli, "C-500", "engaged")  # team south
    everything = [r.reference for r in s.list_cases(pat)]
    assert everything == [f"C-{n:03d}" for n in range(23)]
    pages = [s.list_cases_page(pat, offset=offset, limit=10) for offset in (0, 10, 20)]
    assert [p.total for p in pages] == [23, 23, 23]
    assert [r.reference for p in pages for r in p.rows] == everything
    assert [(p.first, p.last, p.has_previous, p.has_next) for p in pages] == [
        (1, 10, False, True),
        (11, 20, True, True),
        (21, 23, True, False),
    ]
    beyond = s.list_cases_page(pat, offset=40, limit=10)
    assert (beyond.rows, beyond.total) == ((), 23)
    # Filters apply before paging: the total counts the matches, pages walk through them.
    convicted = [f"C-{n:03d}" for n in range(0, 23, 3)]
    first = s.list_cases_page(pat, pathway="convicted", limit=5)
    second = s.list_cases_page(pat, pathway="convicted", offset=5, limit=5)
    assert (first.total, second.total) == (8, 8)
    assert [r.reference for r in (*first.rows, *second.rows)] == convicted
    assert s.list_cases_page(pat, text="C-01", limit=3).total == 10
    # A page never holds another team's case, whatever the offset or team asked for.
    assert s.list_cases_page(oli, limit=100).total == 1
    assert s.list_cases_page(pat, team="south").total == 0
    assert s.list_cases_page(vic, assessor="a").rows == ()  # viewers search no names
    # A page size is kept between 1 and 500; a bad pathway or status matches nothing.
    assert len(s.list_cases_page(pat, limit=0).rows) == 1
    assert s.list_cases_page(pat, limit=10_000).limit == 500
    assert s.list_cases_page(pat, status="bogus").total == 0
    actions = [e.action for e in s.store.audit_entries() if e.action in ("list", "search")]
    assert (actions.count("list"), actions.count("search")) == (8, 6)  # one per call
