"""Step 2: choose a generator and train it on the loaded table."""

import streamlit as st

from ui.widgets import require_dataset

st.title("2 · Train a generator")
dataset = require_dataset()
modelled = dataset.schema.modelled()
st.write(f"The generator will learn **{len(modelled)}** of the {dataset.n_columns} columns of "
         f"**{dataset.name}**; the others are dropped, faked or given new IDs as set on the Data step.")
st.info("Generators are not part of this version yet: training arrives with the next release.",
        icon=":material/construction:")
