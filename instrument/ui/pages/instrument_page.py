"""The instrument page: domains, items with their guidance, and the intervention areas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from instrument.definition import Instrument
from instrument.ui import state
from instrument.ui.components import cached_instrument


def render() -> None:
    """Show the installed instrument so that a psychologist can read it."""
    instrument = cached_instrument()
    st.title(instrument.title)
    st.caption(f"Definition {instrument.id} {instrument.version}")
    st.write(instrument.description.strip())
    st.download_button(
        "Blank form to print (PDF)",
        data=_blank_form(instrument),
        file_name=f"{instrument.id}-{instrument.version}-blank-form.pdf",
        mime="application/pdf",
        icon=":material/print:",
        key=state.widget_key(state.INSTRUMENT_PAGE, "blank-form"),
        on_click="ignore",
        help="Every item with its guidance, boxes to tick and lines for the evidence, for "
        "rating by hand in an interview (the same as `instrument blank-form`).",
    )

    st.header("Domains and items")
    for domain in instrument.domains:
        st.subheader(domain.name)
        st.write(domain.description.strip())
        for item in instrument.items_of(domain.id):
            with _lazy(f"{item.id} · {item.name}", item.id) as shown:
                if not shown:
                    continue
                st.write(item.description.strip())
                st.markdown(f"**No** — {item.guidance.no.strip()}")
                st.markdown(f"**Partial** — {item.guidance.partial.strip()}")
                st.markdown(f"**Yes** — {item.guidance.yes.strip()}")
                areas = [
                    f"{instrument.area_by_id[a].name} ({'mainly' if w >= 1 else 'supporting'})"
                    for a, w in item.weights.items()
                ]
                st.caption(
                    f"5P role: {item.role.value}"
                    + (f" · drives: {', '.join(areas)}" if areas else "")
                )

    st.header("Intervention areas")
    for area in instrument.areas:
        with _lazy(area.name, f"area.{area.id}") as shown:
            if not shown:
                continue
            st.write(area.description.strip())
            mainly = [i.id for i, w in instrument.area_items(area.id) if w >= 1]
            supported = [i.id for i, w in instrument.area_items(area.id) if w < 1]
            st.markdown(f"**Driven mainly by** {', '.join(mainly)}")
            st.markdown(f"**Supported by** {', '.join(supported)}")
            st.markdown(f"**Strengths to build on** {', '.join(area.strengths)}")
            st.markdown("**Suggested sessions**")
            for topic in area.sessions:
                st.markdown(f"- {topic.strip()}")

    st.header("Responsivity")
    for rs in instrument.responsivity:
        with _lazy(f"{rs.id} · {rs.name}", rs.id) as shown:
            if not shown:
                continue
            st.write(rs.description.strip())
            for adaptation in rs.adaptations:
                st.markdown(f"- {adaptation.strip()}")


@contextmanager
def _lazy(label: str, name: str) -> Iterator[bool]:
    """An expander whose content runs and is drawn only while it is open (yields whether open).

    The page lists every item, area and consideration of the definition: drawn closed, the page
    sends about 60 elements instead of about 300, which keeps moving to it quick.
    """
    box = st.expander(label, key=state.widget_key(state.INSTRUMENT_PAGE, name), on_change="rerun")
    if not box.open:
        yield False
        return
    with box:
        yield True


def _blank_form(instrument: Instrument) -> Callable[[], bytes]:
    """Return the callable that lays out the blank form when its download is clicked.

    The form holds the definition only (no case data), so it needs no password and is not an
    export of anything recorded.
    """

    def build() -> bytes:
        from instrument.ui.context import current_documents

        return current_documents().blank_form(instrument, "pdf")

    return build
