"""The formulation page (placeholder until engineer 6b's page lands; 6b owns this file)."""

from __future__ import annotations

import streamlit as st

from instrument.ui import state


def render() -> None:
    """Show the formulation of the case selected in the URL."""
    st.title("Formulation")
    reference = state.selected_case()
    if reference is None:
        st.info("Choose a case on the Cases page first.")
        return
    st.text(f"Case {reference}: this page is being built.")
