"""The web app's script: page config, banner, sign-in gate, navigation. Nothing else.

Started through `server.py` (`streamlit run server.py`), which adds the sign-in and sign-out
routes; the pages live in `instrument/ui/pages/`, the menu in `instrument/ui/navigation.py`.
"""

import streamlit as st

from instrument.errors import InstrumentError
from instrument.ui import navigation
from instrument.ui.components import banner, cached_instrument, session_panel, show_error
from instrument.ui.context import current_actor
from instrument.ui.pages import sign_in_page

# The favicon is an emoji, which Streamlit draws as an inline SVG data URL: a `:material/...:`
# favicon is fetched from fonts.gstatic.com on every page load, and nothing may leave the machine.
st.set_page_config(
    page_title="Intervention formulation",
    page_icon="⚖️",
    layout="wide",
    initial_sidebar_state="expanded",
)
banner(cached_instrument())
try:
    actor = current_actor()
except InstrumentError as error:
    show_error(error)
    st.stop()

if actor is None:
    st.navigation(navigation.signed_out(sign_in_page.render), position="hidden").run()
else:
    page = st.navigation(navigation.menu(actor.role), position="hidden")
    navigation.sidebar_menu(actor.role)
    session_panel(actor)
    page.run()
