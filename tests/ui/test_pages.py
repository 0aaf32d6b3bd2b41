"""Every page of every role: it draws without an error, under the judgement banner."""

from __future__ import annotations

import pytest

from tests.ui.conftest import Web

BANNER = "Structured professional judgement aid"
PAGES = {
    "psychologist": {"cases": "Cases", "instrument": "Intervention Formulation Instrument"},
    "supervisor": {"cases": "Cases", "instrument": "Intervention Formulation Instrument"},
    "viewer": {"cases": "Cases", "instrument": "Intervention Formulation Instrument"},
    "admin": {
        "users": "Users",
        "teams": "Teams",
        "audit": "Audit log",
        "instrument": "Intervention Formulation Instrument",
    },
}


@pytest.mark.parametrize(
    ("role", "page", "title"),
    [(role, page, title) for role, pages in PAGES.items() for page, title in pages.items()],
)
def test_each_page_of_each_role_draws_under_the_banner(
    web: Web, role: str, page: str, title: str
) -> None:
    at = web.app(role, page)
    assert not at.exception
    assert at.info[0].value.startswith(BANNER)
    assert at.title[0].value == title


@pytest.mark.parametrize("role", list(PAGES))
def test_the_app_opens_on_the_first_page_of_the_role(web: Web, role: str) -> None:
    at = web.app(role)
    assert not at.exception
    assert at.title[0].value == ("Users" if role == "admin" else "Cases")


def test_the_instrument_page_draws_an_items_guidance_when_it_is_opened(web: Web) -> None:
    from instrument.definitions import default_instrument
    from instrument.ui import state

    item = default_instrument().items[0]
    at = web.app("psychologist", "instrument")
    labels = [e.label for e in at.expander]
    assert f"{item.id} · {item.name}" in labels
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert item.guidance.partial.strip() not in shown  # closed: not drawn
    at.session_state[state.widget_key(state.INSTRUMENT_PAGE, item.id)] = True
    at.run()
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert item.guidance.partial.strip() in shown


def test_the_instrument_page_offers_the_blank_form_built_on_click(web: Web) -> None:
    from instrument.definitions import default_instrument
    from instrument.ui.pages import instrument_page

    at = web.app("viewer", "instrument")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Blank form to print (PDF)"]
    pdf = instrument_page._blank_form(default_instrument())()
    assert pdf.startswith(b"%PDF")
