"""The Streamlit user interface: pages, components, sign-in and session-state keys."""
