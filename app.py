"""Synthetic Data Studio: the Streamlit entry, with the four wizard steps and the sidebar status."""

from pathlib import Path

import streamlit as st

from ui import signin, state, training_control
from ui.navigation import reconnect_message
from ui.widgets import sidebar_status

ICON = Path(__file__).resolve().parent / "assets" / "favicon.png"  # local: the app must work offline
st.set_page_config(page_title="Synthetic Data Studio", page_icon=str(ICON), layout="wide")
state.init()

steps = [
    st.Page("pages/data.py", title="1 · Data", icon=":material/table:", default=True),
    st.Page("pages/train.py", title="2 · Train", icon=":material/model_training:"),
    st.Page("pages/evaluate.py", title="3 · Evaluate", icon=":material/fact_check:"),
    st.Page("pages/export.py", title="4 · Export", icon=":material/download:"),
]
if state.space() is None:  # a shared server: the sign-in screen stands in for every step, so the address
    # bar (a deep link, ?project=) is kept for after signing in, and no step runs before it
    st.navigation(signin.gate(steps), position="hidden").run()
    reconnect_message()
    st.stop()
page = st.navigation({"Synthetic Data Studio": steps})
training_control.restore_from_url()  # a refreshed tab gets its project back ...
training_control.reattach()  # ... and the training still running for it
state.collect_training()
signin.sidebar_user()
sidebar_status()
reconnect_message()
page.run()
