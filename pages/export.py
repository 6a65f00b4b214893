"""Step 4: generate the synthetic table, download it with its report, and keep the model."""

import streamlit as st

from models.registry import card
from tabular.export import file_stem
from ui import export_view as view
from ui import shape_view as shape
from ui import state
from ui.evaluation_view import report_button, split_for
from ui.navigation import through_entry
from ui.tasks import BackgroundTask, progress_panel
from ui.widgets import offer_recent_projects, show_notice

through_entry()  # a deep link opened first still gets the app's own navigation

MAX_ROWS = 1_000_000  # rows per download from the browser (the file is built in memory)

st.title("4 · Export")
state.collect_training()
trained, dataset = state.get(state.MODEL), state.get(state.DATASET)
if trained is None:
    show_notice()
    st.info("This step needs a trained generator: train one on your table, or use a model file saved earlier.",
            icon=":material/info:")
    st.page_link("pages/train.py", label="Go to step 2: Train", icon=":material/arrow_back:")
    view.model_upload()
    offer_recent_projects()
    st.stop()

show_notice()
base_name = file_stem(state.project_name() or trained.generator)
real = view.real_rows_for(trained, dataset)
st.write(f"Generate synthetic rows with your **{card(trained.generator).title}**. The file has the original "
         "columns in their original order and formats; dropped columns are left out, ID columns get new unique "
         "values and personal-data columns get realistic fake values.")
c1, c2, c3 = st.columns(3)
rows = c1.number_input("Rows", 1, MAX_ROWS, min(trained.real_rows or (dataset.n_rows if dataset else 1000), MAX_ROWS),
                       step=1000, key="export_rows", help="As many as the real table by default. For more than "
                       f"{MAX_ROWS:,}, use `python cli.py sample` with the model file.")
seed = c2.number_input("Seed", 0, 2**31 - 1, 0, key="export_seed", help="Same seed, same rows.")
file_format = c3.selectbox("File format", list(view.FORMATS), key="export_format")
if real is not None:
    drop = st.checkbox("Remove synthetic rows identical to a real row", value=True, key="export_drop_copies",
                       help="They are replaced by new draws, so you still get the rows you asked for.")
else:
    drop = st.checkbox("Remove synthetic rows identical to a real row", value=False, key="export_drop_copies_off",
                       disabled=True, help="Needs the original table, which is not loaded.")
    st.caption("Without the original table, rows and values cannot be checked against it: IDs are new and fake "
               "values made up, but one could by chance equal a real value. Load the table (or open a project that "
               "kept it) for these checks.")

plan = shape.output_plan(trained.model, int(rows), real)
protect = view.protection_choice()
if plan is None:
    st.caption("Finish the request above to generate.")
elif plan.shaped:
    st.caption(shape.describe_plan(plan))

task = state.get(state.EXPORT_TASK)
if st.button("Generate", key="export_generate", type="primary", icon=":material/auto_awesome:",
             disabled=plan is None or (task is not None and task.active)):
    unseen = split_for(dataset, trained)[1] if real is not None and plan.shaped else None  # for the checks
    task = BackgroundTask("Generation", view.export_work(trained, plan, int(seed), file_format, real,
                                                         drop and real is not None, protect, unseen),
                          owner=trained.model_id)
    state.put(state.EXPORT_TASK, task)
    st.rerun()  # redraw with the button disabled while the rows are made
if task is not None and task.owner == trained.model_id:
    if task.active:
        progress_panel(task)
    elif task.state == "failed":
        st.error(task.error, icon=":material/error:")
    else:
        result, content, made_as, made_plan, checks = task.result
        kind = "augmented" if made_plan.augment else "synthetic"
        file_name = f"{base_name}_{kind}.{view.FORMATS[made_as][0]}"
        if not task.handled:  # keep a copy of each export in the project, once
            task.handled = True
            state.add_shape_checks(trained.model_id, checks)
            state.save(lambda ws, project: ws.add_export(project, trained.model_id, file_name, content,
                                                         len(result.frame), result.copies_removed, checks))
        view.result_panel(result, content, made_as, file_name, result.schema or trained.model.schema_)
        shape.before_after(result, made_plan, real, trained.model.schema_)
        if checks:
            shape.check_summary(checks)
            st.page_link("pages/evaluate.py", label="See it on the Evaluate step", icon=":material/fact_check:")

st.divider()
st.markdown("#### Report and model")
evaluation = state.evaluations().get(trained.model_id)
c1, c2 = st.columns(2)
with c1:
    if evaluation is not None and dataset is not None:
        report_button(dataset, trained, evaluation, key="export_report")
    elif evaluation is not None:
        st.caption("The report draws real and synthetic data side by side, so it needs the original table, which "
                   "this project did not keep.")
    else:
        st.caption("The quality and privacy report is ready once the Evaluate step has scored this generator.")
        st.page_link("pages/evaluate.py", label="Go to step 3: Evaluate", icon=":material/fact_check:")
with c2:
    view.model_download(trained, base_name)
with st.expander("Use a model file saved earlier", icon=":material/upload_file:"):
    view.model_upload()
