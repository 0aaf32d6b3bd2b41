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
