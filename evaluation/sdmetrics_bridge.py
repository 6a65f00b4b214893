"""Hand our typed tables to sdmetrics: its metadata from our schema, and plain pandas dtypes it accepts."""

from __future__ import annotations

import warnings

import pandas as pd

from tabular.schema import Kind, TableSchema

SDTYPES = {
    Kind.NUMBER: "numerical",
    Kind.WHOLE_NUMBER: "numerical",
    Kind.CATEGORY: "categorical",
    Kind.YES_NO: "boolean",
    Kind.DATETIME: "datetime",
}


def scored_columns(schema: TableSchema) -> list[str]:
    """Columns a quality score compares: the learned ones with a kind sdmetrics understands."""
    return [c.name for c in schema.modelled() if c.kind in SDTYPES]


def metadata_for(schema: TableSchema) -> dict:
    """Single-table sdmetrics metadata for the scored columns."""
    return {"columns": {c.name: {"sdtype": SDTYPES[c.kind]} for c in schema.modelled() if c.kind in SDTYPES}}


def plain_frame(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """The scored columns with numpy dtypes (floats with NaN, objects for text and yes/no)."""
    out = {}
    for name in scored_columns(schema):
        kind, values = schema.column(name).kind, frame[name]
        if kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif kind is Kind.DATETIME:
            out[name] = pd.to_datetime(values, errors="coerce")
        else:
            out[name] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(out)


def single_table_reports():
    """sdmetrics' single-table QualityReport and DiagnosticReport classes.

    sdmetrics warns that these move to a multi-table API; they remain its single-table reports.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import DiagnosticReport, QualityReport
    return QualityReport, DiagnosticReport


def run_report(report, real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> None:
    """Generate an sdmetrics report on the scored columns, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(plain_frame(real, schema), plain_frame(synthetic, schema), metadata_for(schema),
                        verbose=False)


def quality_report(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, fast: bool = True) -> dict:
    """sdmetrics' QualityReport: overall score, Column Shapes and Column Pair Trends (all 0..1).

    With ``fast`` (the default) the pair trends come from ``evaluation.pair_trends``: the same numbers as
    sdmetrics' own loop over pairs, which grows with the square of the column count; ``fast=False`` runs its own.
    """
    report = single_table_reports()[0]()
    if fast:
        from evaluation.pair_trends import FastColumnPairTrends

        report._properties["Column Pair Trends"] = FastColumnPairTrends()  # a private field of the pinned sdmetrics
    run_report(report, real, synthetic, schema)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": float(report.get_score()), "column_shapes": float(props["Column Shapes"]),
            "column_pair_trends": float(props["Column Pair Trends"]), "report": report}
