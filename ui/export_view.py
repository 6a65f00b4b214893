"""Pieces of the Export step: the generation task, the result with its download, and model files."""

from __future__ import annotations

import time

import streamlit as st

from evaluation.conditional import conditional_check
from models.base import Generator, ModelError
from models.jobs import TrainedModel
from models.shaping import OutputPlan, make_output, shaped_parts
from models.training import TrainingReport
from tabular.export import as_written, export_file
from tabular.formula_guard import note as protection_note
from ui import state

FORMATS = {"CSV": ("csv", "text/csv"), "Parquet": ("parquet", "application/octet-stream"),
           "Excel": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


def real_rows_for(trained, dataset):
    """The real table to check copies against, when the loaded table is the one the model learned."""
    if dataset is None or trained.model_id not in state.models():
        return None
    return dataset.typed_as(trained.model.schema_)


def export_work(trained, plan: OutputPlan, seed: int, file_format: str, real, drop_copies: bool,
                protect: bool = True, unseen=None):
    """The worker's body: make the rows the plan asks for in chunks, filter, check a shaped export against the
    real rows like it (``unseen`` ones where enough), and write the file's bytes (formulas neutralised if asked).

    Returns (result, file bytes, format, plan, checks as dicts)."""
    def work(progress):
        result = make_output(trained.model, plan, seed=seed, real=real, drop_copies=drop_copies,
                             on_progress=lambda made, want: progress(0.85 * made / max(want, 1),
                                                                     f"{made:,} of {want:,} rows made"))
        checks = []
        if plan.shaped and real is not None:
            progress(0.87, "Comparing the rows with real rows like them")
            checks = [conditional_check(rows, asked, trained.model.schema_, unseen if unseen is not None else real,
                                        real).to_dict() for rows, asked in shaped_parts(result, plan)]
        progress(0.92, f"Writing the {file_format} file")
        schema = result.schema or trained.model.schema_
        content, result.protected_cells = export_file(result.frame, schema, file_format, protect)
        return result, content, file_format, plan, checks
    return work


def result_panel(result, content: bytes, file_format: str, file_name: str, schema) -> None:
    """What was made, a preview in the file's own formats, and the download."""
    frame = result.frame
    if result.real_rows:
        st.success(f"Made **{len(frame):,}** rows with {frame.shape[1]} columns: your {result.real_rows:,} real rows "
                   f"and {len(frame) - result.real_rows:,} synthetic ones.", icon=":material/check_circle:")
    else:
        st.success(f"Made **{len(frame):,}** synthetic rows with {frame.shape[1]} columns.",
                   icon=":material/check_circle:")
    if result.copies_removed:
        st.info(f"Removed **{result.copies_removed:,}** synthetic rows identical to a real row and drew new ones in "
                "their place.", icon=":material/shield:")
    if result.values_replaced:
        st.caption(f"{result.values_replaced:,} new IDs or fake values happened to equal a real value and were "
                   "drawn again.")
    for note in result.notes:
        st.warning(note, icon=":material/warning:")
    if result.protected_cells:
        st.info(protection_note(result.protected_cells), icon=":material/shield:")
    st.dataframe(as_written(frame.head(20), schema), hide_index=True)
    mime = FORMATS[file_format][1]
    st.download_button(f"Download {file_name} ({len(content) / 1e6:.1f} MB)", content, file_name=file_name,
                       mime=mime, key="export_download", type="primary", icon=":material/download:",
                       on_click="ignore")


def protection_choice() -> bool:
    """The advanced switch for formula protection (on by default)."""
    with st.expander("Advanced", icon=":material/tune:"):
        return st.checkbox("Protect spreadsheet users from formulas", value=True, key="export_protect",
                           help="Text that starts with =, +, -, @ or a tab could run as a formula when the CSV or "
                                "Excel file is opened in a spreadsheet, so such values get an apostrophe (') in "
                                "front; numbers, dates and Parquet files are never changed.")


def model_download(trained, base_name: str) -> None:
    st.download_button("Download the model file", trained.model.to_bytes, key="export_model_download",
                       file_name=f"{base_name}_{trained.generator}.pt", mime="application/octet-stream",
                       icon=":material/save:", on_click="ignore",
                       help="Generate more rows later, here or with `python cli.py sample`, without the original data. "
                            "It holds what the generator learned (category names, value ranges), not your rows.")


def model_upload() -> None:
    """Use a model file saved earlier; it generates without the original data."""
    upload = st.file_uploader("Use a model file saved earlier (.pt)", type=["pt"], key="export_model_upload")
    if upload is None or state.get(state.UPLOAD_SEEN) == f"model:{upload.file_id}":
        return
    state.put(state.UPLOAD_SEEN, f"model:{upload.file_id}")
    try:
        model = Generator.load(upload.getvalue())
    except ModelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    state.put(state.MODEL, TrainedModel(model.name, "from file", model, TrainingReport(), time.time()))
    state.put(state.EXPORT_TASK, None)
    st.rerun()
