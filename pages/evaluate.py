"""Step 3: compare the synthetic data with the real data and check privacy."""

import streamlit as st

from models.registry import card
from ui.widgets import require_model

st.title("3 · Evaluate")
trained = require_model()
st.info(f"Your **{card(trained.generator).title}** is trained and kept for this session. The side-by-side "
        "comparison and the privacy check arrive with the next release of this step; the live quality on the "
        "Train step is an early estimate of the quality score.", icon=":material/construction:")
