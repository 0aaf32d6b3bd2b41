"""The web app's entry: page config, the judgement banner, navigation. Nothing else."""

import streamlit as st

from instrument.ui.components import banner, cached_instrument
from instrument.ui.pages import instrument_page

st.set_page_config(page_title="Intervention formulation", layout="wide")
banner(cached_instrument())
st.navigation([st.Page(instrument_page.render, title="Instrument", url_path="instrument")]).run()
