"""SECURITY.md 24 in the app: a one-time password leads only to the Password page; changing it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from instrument.access import SYSTEM
from instrument.ui import state
from instrument.ui.pages.password import CHANGED
from instrument.ui.sign_in import SESSION_COOKIE
from tests.ui.conftest import APP, PASSWORD, TIMEOUT, Web, texts

NEW = "quartz lantern meadow orbit violin"


def _key(name: str) -> str:
    return state.widget_key(state.ADMIN_FORMS, f"own_password.{name}")


def _signed_in_with_one_time(web: Web) -> tuple[AppTest, str]:
    with web.service() as service:
        row = service.add_user(SYSTEM, "fresh.one", "psychologist", None, "north")
        assert row.one_time_password
        session_id = service.sign_in("fresh.one", row.one_time_password)
    web.cookies[SESSION_COOKIE] = web.signer().session_cookie(session_id)
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run(), row.one_time_password


def test_req24_a_one_time_password_shows_only_the_password_page(web: Web) -> None:
    at, one_time = _signed_in_with_one_time(web)
    assert not at.exception
    assert [t.value for t in at.title] == ["Your password"]
    assert "one-time password" in texts(at)
    at.text_input(key=_key("old")).input(one_time)
    at.text_input(key=_key("new")).input(NEW)
    at.text_input(key=_key("again")).input(NEW)
    next(b for b in at.button if b.label == "Change password").click().run()
    assert [s.value for s in at.success] == [CHANGED]
    with web.service() as service:
        assert service.session_actor(service.sign_in("fresh.one", NEW)) is not None


def test_req24_the_password_page_refuses_a_wrong_old_password(web: Web) -> None:
    at = web.app("psychologist", "password")
    assert [t.value for t in at.title] == ["Your password"]
    at.text_input(key=_key("old")).input("not the old one at all")
    at.text_input(key=_key("new")).input(NEW)
    at.text_input(key=_key("again")).input(NEW)
    next(b for b in at.button if b.label == "Change password").click().run()
    assert any("current password is not right" in e.value for e in at.error)
    assert PASSWORD not in texts(at)
