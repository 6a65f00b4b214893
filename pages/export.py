"""Step 4: generate the synthetic table and download it."""

import streamlit as st

from ui.widgets import require_model

st.title("4 · Export")
require_model()
