"""The demo database of `make demo`: worked cases and one account per role, passwords once."""

from __future__ import annotations

from pathlib import Path

from instrument.demo import load_demo
from instrument.service import Service


def test_the_demo_loads_once_with_every_role_and_the_worked_cases(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    accounts = load_demo(db)
    assert [role for _, role, _ in accounts] == [
        "admin",
        "psychologist",
        "supervisor",
        "viewer",
        "facilitator",
    ]
    passwords = [password for _, _, password in accounts]
    assert len(set(passwords)) == 5
    assert all(len(p) >= 15 for p in passwords)
    assert load_demo(db) == []  # a second start loads nothing and shows no password
    with Service.open(db) as service:
        username, _, password = accounts[3]
        viewer = service.session_actor(service.sign_in(username, password))
        assert viewer is not None
        rows = service.list_cases(viewer)
    assert [r.reference for r in rows] == [f"WC-0{n}" for n in range(1, 10)] + ["WC-10"]
    assert [r.status.value if r.status else None for r in rows] == (
        ["final"] * 5 + ["draft"] + ["final"] * 4
    )
    assert rows[7].no_area_offered  # WC-08, assessed under 1.1: no tie-order winner
    assert rows[-1].plan_status == "ended"  # WC-10: the intervention plan, completed
    assert rows[0].latest_version == 2
    assert all(r.team == "demo" for r in rows)
