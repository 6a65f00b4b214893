"""Step 4: generate the synthetic table and download it."""

import streamlit as st

from models.registry import card
from ui.widgets import require_model

st.title("4 · Export")
trained = require_model()
st.info(f"Your **{card(trained.generator).title}** is trained. Downloads from the browser arrive with the next "
        "release of this step; today the command line can generate and save files:", icon=":material/construction:")
st.code("python cli.py generate my_table.csv --generator vae --out synthetic.csv --save-model model.pt\n"
        "python cli.py sample model.pt --rows 10000 --out more.parquet", language="bash")
