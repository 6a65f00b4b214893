"""Step 1: load a table (upload or sample) and review what the app understood of it."""

import streamlit as st

from tabular.dataset import load_dataset
from tabular.errors import DataReadError
from tabular.samples import samples
from ui import state
from ui.navigation import through_entry
from ui.privacy_view import data_step_summary
from ui.profile_table import distribution_figure, profile_editor
from ui.projects_view import keep_data_choice, recent_projects
from ui.signin import privacy_note
from ui.widgets import show_notice, show_read_error

through_entry()  # a deep link opened first still gets the app's own navigation

st.title("1 · Your data")
st.caption(f"Load the table you want a synthetic copy of. {privacy_note()}")


def load(source, file_name: str, identity: str, name: str | None = None) -> None:
    """Read a table into the session, or explain in plain words why it cannot be read."""
    try:
        with st.spinner(f"Reading {file_name}…"):
            dataset = load_dataset(source, file_name, name=name)
    except DataReadError as error:
        show_read_error(error)
        return
    except Exception as error:  # a bug or a file we did not foresee: never a traceback
        show_read_error(DataReadError(
            "Something went wrong while reading this file. Please check that it is a table, "
            "or try saving it again as CSV.", f"{type(error).__name__}: {error}"))
        return
    state.set_dataset(dataset, identity)
    st.rerun()  # so the sidebar, drawn before this page, shows the new table


loaded = state.get(state.DATASET)
show_notice()
if loaded is None:
    recent_projects()
    if state.get(state.PROJECT) is not None and state.get(state.MODEL) is not None:
        st.info("The open project was saved without its original table. Its models can still generate data on "
                "the Export step; load the table again to train or evaluate.", icon=":material/info:")
keep_data_choice()
loader = (st.expander(f"Load a different table (now: {loaded.name})", icon=":material/swap_horiz:")
          if loaded is not None else st.container())
upload_tab, sample_tab = loader.tabs([":material/upload: Upload a file", ":material/dataset: Try a sample"])
with upload_tab:
    uploaded = st.file_uploader("CSV, TSV, Excel (.xlsx) or Parquet", key="data_upload",
                                type=["csv", "tsv", "txt", "xlsx", "parquet"])
    if uploaded is not None and state.get(state.UPLOAD_SEEN) != uploaded.file_id:
        state.put(state.UPLOAD_SEEN, uploaded.file_id)
        load(uploaded.getvalue(), uploaded.name, f"upload:{uploaded.file_id}")
with sample_tab:
    catalogue = {s.key: s for s in samples()}
    choice = st.radio("Sample dataset", list(catalogue), key="data_sample",
                      format_func=lambda k: catalogue[k].title, horizontal=True)
    chosen = catalogue[choice]
    st.write(chosen.description)
    with st.expander("Source and licence"):
        st.write(chosen.source)
        st.caption(chosen.licence)
    if st.button("Load this sample", key="data_load_sample", type="primary", icon=":material/download:"):
        load(chosen.path, chosen.file, f"sample:{chosen.key}", name=chosen.title)

dataset = state.get(state.DATASET)
if dataset is None:
    st.stop()

st.subheader(f"{dataset.name}")
schema = dataset.schema
personal = [c.name for c in schema.columns if c.is_personal]
ids = [c.name for c in schema.columns if c.kind.value == "identifier"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{dataset.n_rows:,}")
c2.metric("Columns", dataset.n_columns)
c3.metric("Columns to learn", len(schema.modelled()))
c4.metric("Personal or ID columns", len(personal) + len(ids))

report = dataset.report
read_as = f"{report.file_format}" + (f", {report.encoding}, {report.delimiter}-separated" if report.delimiter else "")
st.caption(f"Read {report.file_name} as {read_as}.")
if report.notes:
    st.info("We tidied the file while reading it:\n" + "\n".join(f"- {note}" for note in report.notes),
            icon=":material/build:")
if personal:
    st.warning(f"Personal data found in {', '.join(personal)}. These columns will hold realistic fake values "
               "in the synthetic copy, never the real ones.", icon=":material/lock:")
show_notice()

st.markdown("**What we understood.** Check each column's kind and what should happen to it; "
            "change either cell if it is not right.")
if dataset.n_rows > 100_000:
    st.caption("Distributions are drawn from a random sample of 100,000 rows; counts use every row.")
profile_editor(dataset)

with st.expander("Look closer at a column", expanded=False, icon=":material/bar_chart:"):
    name = st.selectbox("Column", schema.names, key="data_closer_column")
    spec = schema.column(name)
    st.plotly_chart(distribution_figure(dataset.profile(name)), key="data_closer_chart")
    st.caption(f"Kind: {spec.kind.label}: {spec.reason}."
               + (f" {spec.invalid_count:,} values did not fit this kind and count as missing."
                  if spec.invalid_count else ""))

data_step_summary(dataset)
st.download_button("Download these settings (JSON)", schema.to_json(), file_name=f"{dataset.name}.schema.json",
                   mime="application/json", key="data_download_schema", icon=":material/settings:")
st.page_link("pages/train.py", label="Next: train a generator", icon=":material/arrow_forward:")
with st.expander("Recent projects", icon=":material/history:"):
    if not recent_projects():
        st.caption("No other saved projects yet.")
