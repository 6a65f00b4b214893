"""Step 3: compare the synthetic data with the real data, check privacy, and compare generators."""

import streamlit as st

from models.registry import card
from ui import evaluation_view as view
from ui import shape_view, state
from ui.navigation import through_entry
from ui.tasks import BackgroundTask, progress_panel
from ui.widgets import require_model

through_entry()  # a deep link opened first still gets the app's own navigation

st.title("3 · Evaluate")
trained = require_model()
dataset = state.get(state.DATASET)
if dataset is None:
    st.info("This project was saved without its original table, so the synthetic data cannot be compared with "
            "it here. You can still generate data on the Export step, or load the table again on the Data step "
            "(as a new project) to train and evaluate.", icon=":material/info:")
    st.page_link("pages/export.py", label="Go to step 4: Export", icon=":material/arrow_forward:")
    st.stop()

if trained.model_id not in state.models():
    st.info("This generator came from a model file, so the table it learned from is not part of this project and "
            "cannot be compared here. It can still generate data on the Export step.", icon=":material/info:")
    st.page_link("pages/export.py", label="Go to step 4: Export", icon=":material/arrow_forward:")
    st.stop()

evaluation = state.evaluations().get(trained.model_id)
task = state.get(state.EVAL_TASK)
if evaluation is None and task is not None and task.owner == trained.model_id and not task.active:
    if task.state == "done":  # hand the finished scores over to the project
        evaluation, samples = task.result
        state.put(state.EVALUATIONS, {**state.evaluations(), trained.model_id: evaluation})
        state.put(state.CHART_DATA, {**(state.get(state.CHART_DATA) or {}), trained.model_id: samples})
        state.save(lambda ws, _: ws.add_evaluation(trained.model_id, evaluation))
        st.rerun()  # so the sidebar, drawn before this page, shows the score
    else:
        st.error(task.error or "The evaluation failed.", icon=":material/error:")
        st.button("Try again", key="eval_retry", on_click=state.put, args=(state.EVAL_TASK, None))
        st.stop()

if evaluation is None:
    if task is None or task.owner != trained.model_id:
        task = BackgroundTask("Evaluation", view.scoring_work(dataset, trained), owner=trained.model_id)
        state.put(state.EVAL_TASK, task)
    st.markdown(f"Scoring your **{card(trained.generator).title}** against the real rows: quality, privacy and "
                "usefulness. This takes a few seconds to half a minute; you can switch steps meanwhile.")
    progress_panel(task)
    st.stop()

real, synthetic = view.chart_data(dataset, trained)
schema = trained.model.schema_
view.headline(evaluation, trained)
c1, c2 = st.columns([1, 3])
with c1:
    view.report_button(dataset, trained, evaluation, key="eval_report")
c2.page_link("pages/export.py", label="Next: export the synthetic data", icon=":material/arrow_forward:")

shaped = state.shape_checks(trained.model_id)
tabs = st.tabs(["Column shapes", "Pair trends", "Detection & ML usefulness", "Privacy", "Validity",
                f"Compare generators ({len(state.models())})", f"Shaped exports ({len(shaped)})"])
with tabs[0]:
    view.shapes_section(evaluation, real, synthetic, schema)
with tabs[1]:
    view.trends_section(evaluation, real, synthetic, schema)
with tabs[2]:
    view.usefulness_section(evaluation, dataset, trained)
with tabs[3]:
    view.privacy_section(evaluation)
with tabs[4]:
    view.validity_section(evaluation)
with tabs[5]:
    st.caption("Every generator trained in this project, scored the same way. Train another on step 2 to compare.")
    view.leaderboard()
with tabs[6]:
    shape_view.evaluate_section(shaped, evaluation.quality.column_shapes if evaluation.quality else None)
