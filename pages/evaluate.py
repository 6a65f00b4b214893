"""Step 3: compare the synthetic data with the real data and check privacy."""

import streamlit as st

from ui.widgets import require_model

st.title("3 · Evaluate")
require_model()
