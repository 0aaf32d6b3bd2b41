"""The app's pages, who may see each, and links between them.

Pages are `render()` functions in `instrument/ui/pages/`; each is wrapped in an `st.Page` whose
`url_path` is fixed here, so that a page can link to another (`link`, `go`) without importing
it, and a reload lands on the same page. Which pages appear depends on the role:

| page            | url_path      | psychologist | supervisor | viewer  | admin |
|-----------------|---------------|--------------|------------|---------|-------|
| Cases           | `cases`       | yes          | yes        | yes     | no    |
| Case            | `case`        | hidden¹      | hidden¹    | hidden¹ | no    |
| Assessment      | `assessment`  | hidden¹      | hidden¹    | hidden¹ | no    |
| Formulation     | `formulation` | hidden¹      | hidden¹    | hidden¹ | no    |
| Case conference | `conference`  | yes          | yes        | yes     | no    |
| Instrument      | `instrument`  | yes          | yes        | yes     | yes   |
| Users           | `users`       | no           | no         | no      | yes   |
| Teams           | `teams`       | no           | no         | no      | yes   |
| Audit log       | `audit`       | no           | no         | no      | yes   |

¹ reached from a case (the URL carries `?case=...&v=...`), not listed in the menu. What each
role may do on a page is decided again by the service on every call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NoReturn

import streamlit as st

from instrument.ui import state

PageName = Literal[
    "cases",
    "case",
    "assessment",
    "formulation",
    "conference",
    "instrument",
    "users",
    "teams",
    "audit",
]


@dataclass(frozen=True)
class PageSpec:
    """One page: its module (holding `render()`), menu title, icon and whether it is listed."""

    module: str
    title: str
    icon: str
    listed: bool = True


PAGES: dict[PageName, PageSpec] = {
    "cases": PageSpec("instrument.ui.pages.cases", "Cases", ":material/folder_shared:"),
    "case": PageSpec("instrument.ui.pages.case", "Case", ":material/folder_open:", False),
    "assessment": PageSpec(
        "instrument.ui.pages.assessment", "Assessment", ":material/edit_note:", False
    ),
    "formulation": PageSpec(
        "instrument.ui.pages.formulation", "Formulation", ":material/insights:", False
    ),
    "conference": PageSpec(
        "instrument.ui.pages.conference", "Case conference", ":material/co_present:"
    ),
    "instrument": PageSpec(
        "instrument.ui.pages.instrument_page", "Instrument", ":material/menu_book:"
    ),
    "users": PageSpec("instrument.ui.pages.admin", "Users", ":material/group:"),
    "teams": PageSpec("instrument.ui.pages.admin", "Teams", ":material/groups:"),
    "audit": PageSpec("instrument.ui.pages.admin", "Audit log", ":material/policy:"),
}

CLINICAL: tuple[PageName, ...] = ("cases", "case", "assessment", "formulation", "conference")
ADMIN: tuple[PageName, ...] = ("users", "teams", "audit")


def _renderer(name: PageName) -> Callable[[], None]:
    """Return a function that imports the page's module when first shown and renders it."""
    spec = PAGES[name]

    def render() -> None:
        module = importlib.import_module(spec.module)
        page_render = getattr(module, f"render_{name}", None) or module.render
        page_render()

    render.__name__ = f"render_{name}"
    return render


def page(name: PageName) -> st.Page:
    """Return the `st.Page` for `name` (same url path every time, so links match)."""
    spec = PAGES[name]
    return st.Page(
        _renderer(name),
        title=spec.title,
        icon=spec.icon,
        url_path=name,
        visibility="visible" if spec.listed else "hidden",
    )


def menu_names(role: str) -> dict[str, list[PageName]]:
    """Return the names of a role's pages by menu section, the first page the default."""
    if role == "admin":
        return {"Administration": list(ADMIN), "Reference": ["instrument"]}
    return {"Work": list(CLINICAL), "Reference": ["instrument"]}


def menu(role: str) -> dict[str, list[st.Page]]:
    """Return the menu for a role: sections of pages, plus a hidden home page at `/`.

    Streamlit serves its default page at `/` and not at its own path, so that `/cases` (or
    `/users`) stays a real address, the default is a hidden home page that switches to the
    role's first page.
    """
    sections = menu_names(role)
    first = next(iter(sections.values()))[0]
    menu_pages = {section: [page(name) for name in names] for section, names in sections.items()}
    menu_pages[next(iter(menu_pages))].insert(0, _home(first))
    return menu_pages


def sidebar_menu(role: str) -> None:
    """Show the role's listed pages as links in the sidebar, under their section titles.

    The app runs `st.navigation` hidden and draws this menu itself: Streamlit's own sidebar menu
    puts `div`s inside its `ul` (axe: `list`, `listitem`), which screen readers cannot read as
    a list. These are plain links (`st.page_link`), in the same tab.
    """
    with st.sidebar, st.container(key="ifi-menu"):
        for section, names in menu_names(role).items():
            st.markdown(f"**{section}**")
            for name in names:
                spec = PAGES[name]
                if spec.listed:
                    st.page_link(page(name), label=spec.title, icon=spec.icon)


def _home(first: PageName) -> st.Page:
    def render_home() -> None:
        go(first)

    return st.Page(
        render_home,
        title=PAGES[first].title,
        url_path="home",
        default=True,
        visibility="hidden",
    )


def signed_out(render_sign_in: Callable[[], None]) -> list[st.Page]:
    """Return the pages of a signed-out visitor: the sign-in page, at every app address.

    Opening `/case?case=C-0042` signed out shows the sign-in form there (not "page not found"),
    and signing in comes back to it.
    """
    return [
        st.Page(render_sign_in, title="Sign in", url_path="sign-in", default=True),
        *(
            st.Page(render_sign_in, title="Sign in", url_path=name, visibility="hidden")
            for name in PAGES
        ),
    ]


def link(
    name: PageName,
    label: str,
    *,
    case: str | None = None,
    version: int | None = None,
    icon: str | None = None,
) -> None:
    """Show a link to another page of the app (same tab), carrying the case selection."""
    params = state.case_params(case, version) if case else None
    st.page_link(page(name), label=label, icon=icon, query_params=params)


def go(name: PageName, *, case: str | None = None, version: int | None = None) -> NoReturn:
    """Switch to another page now, carrying the case selection in the URL."""
    params = state.case_params(case, version) if case else None
    st.switch_page(page(name), query_params=params)
