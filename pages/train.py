"""Step 2: choose a generator, start training, and watch it learn."""

import streamlit as st

from models import registry
from models.jobs import HOLDOUT_SHARE, TrainingRequest
from tabular.schema import TableSchema
from ui import state, training_control
from ui.navigation import through_entry
from ui.network_view import network_panel
from ui.privacy_view import train_step_choice
from ui.race_view import auto_settings
from ui.training_view import (
    advanced_settings,
    chosen_card,
    generator_cards,
    interrupted_panel,
    live_panel,
    pick_table,
    result_panel,
)
from ui.widgets import require_dataset

through_entry()  # a deep link opened first still gets the app's own navigation

st.title("2 · Train a generator")
state.collect_training()
job = state.get(state.TRAIN_JOB)  # shown even when the table was not kept (a refreshed tab re-attached to it)

if job is not None and job.active:
    live_panel()
    # Outside the fragment, which is redrawn every second and could swallow a click.
    st.button("Cancel training", key="train_cancel", icon=":material/stop_circle:", on_click=job.cancel)
    st.stop()
if job is not None:
    result_panel(job)
    in_use = state.get(state.MODEL) if job.result is not None else None  # the result, or a runner-up opened
    network_panel(getattr(in_use, "model", None))
    c1, c2 = st.columns([1, 3])
    c1.button("Train another generator", key="train_again", icon=":material/restart_alt:",
              on_click=state.put, args=(state.TRAIN_JOB, None))
    if in_use is not None:
        st.caption(":material/shield: " + in_use.model.privacy_summary)
        c2.page_link("pages/evaluate.py", label="Next: evaluate", icon=":material/arrow_forward:")
        with st.expander("A peek at five synthetic rows", icon=":material/visibility:"):
            st.dataframe(in_use.model.sample(5, seed=0), hide_index=True)
    st.stop()

dataset = require_dataset()
interrupted_panel(training_control.interrupted())
modelled = dataset.schema.modelled()
st.write(f"The generator learns **{len(modelled)}** of the {dataset.n_columns} columns of **{dataset.name}**; "
         f"the others are dropped, faked or given new IDs as set on the Data step. "
         f"{HOLDOUT_SHARE:.0%} of the rows are set aside to check quality and are never used to learn, and a "
         "small part of the rest watches the training (the held-out line on the chart).")
names = registry.names()
suggested = registry.recommended(dataset.n_rows, len(modelled))
choice = st.radio("Generator", names, index=names.index(suggested), horizontal=True, key="train_generator",
                  format_func=lambda n: registry.card(n).title + (" (suggested)" if n == suggested else ""))
chosen_card(choice, suggested)
with st.expander("Which should I pick?", icon=":material/help:"):
    pick_table()
with st.expander("Compare all generators", icon=":material/compare:"):
    generator_cards()
if choice == "auto":
    preset, (overrides, budget) = "balanced", auto_settings()
else:
    preset = st.segmented_control("How long to train", registry.PRESETS, default="balanced", key="train_preset",
                                  format_func=registry.PRESET_LABELS.get, required=True)
    overrides, budget = advanced_settings(choice, preset)

privacy = train_step_choice(choice)

if st.button("Start training", key="train_start", type="primary", icon=":material/play_arrow:"):
    request = TrainingRequest(choice, preset, overrides, budget or None, int(overrides.get("seed", 0)),
                              HOLDOUT_SHARE, privacy)
    schema = TableSchema.from_json(dataset.schema.to_json())  # later edits on the Data step do not leak in
    state.save(lambda ws, project: ws.save_schema(project, schema))  # reopening gets the settings trained with
    training_control.start(request, schema)
    st.rerun()
