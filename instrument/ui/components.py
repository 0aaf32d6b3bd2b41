"""Reusable widgets shared by the pages."""

from __future__ import annotations

import streamlit as st

from instrument.definition import Instrument
from instrument.definitions import default_instrument


@st.cache_resource
def cached_instrument() -> Instrument:
    """Return the installed instrument, loaded once per server process (immutable)."""
    return default_instrument()


def banner(instrument: Instrument) -> None:
    """Show the judgement caution that stands on every screen."""
    st.info(instrument.notice.strip(), icon=":material/balance:")
