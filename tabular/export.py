"""Write synthetic tables to CSV, TSV, Excel or Parquet, in the formats the original file used."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from tabular.parsing import format_number
from tabular.schema import Kind, TableSchema

FORMATS = {".csv": "CSV", ".tsv": "TSV", ".txt": "TSV", ".xlsx": "Excel", ".parquet": "Parquet"}


def file_stem(name: str) -> str:
    """A file-name-safe version of a dataset name: 'Telecom customers' -> 'telecom_customers'."""
    stem = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return stem or "table"


class ExportError(Exception):
    """A table could not be written; the message is for the user."""


def as_written(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Every column as text the way the original file wrote it (dates, separators, yes/no words)."""
    out = {}
    for name in frame.columns:
        spec, values = schema.column(name), frame[name]
        present = values.notna()
        if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER) and pd.api.types.is_numeric_dtype(values):
            text = values.astype("float64").map(lambda v: format_number(v, spec.format), na_action="ignore")
        elif spec.kind is Kind.DATETIME and pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime(spec.format.datetime_format or "%Y-%m-%d")
        elif spec.kind is Kind.YES_NO:
            text = values.map({True: spec.format.true_label, False: spec.format.false_label})
        else:
            text = values.astype(object)
        out[name] = text.where(present, None)
    return pd.DataFrame(out)


def _typed_for_files(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Native types for Excel/Parquet, with yes/no written in the original words."""
    out = frame.copy()
    for name in out.columns:
        spec = schema.column(name)
        if spec.kind is Kind.YES_NO:
            out[name] = as_written(out[[name]], schema)[name]
    return out


def table_bytes(frame: pd.DataFrame, schema: TableSchema, file_format: str) -> bytes:
    """The table as the bytes of a CSV, TSV, Excel or Parquet file."""
    buffer = io.BytesIO()
    if file_format in ("CSV", "TSV"):
        decimal_comma = any(schema.column(c).format.decimal_sep == "," for c in frame.columns)
        sep = "\t" if file_format == "TSV" else (";" if decimal_comma else ",")
        as_written(frame, schema).to_csv(buffer, index=False, sep=sep)
    elif file_format == "Excel":
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            _typed_for_files(frame, schema).to_excel(writer, index=False, sheet_name="synthetic")
    elif file_format == "Parquet":
        _typed_for_files(frame, schema).to_parquet(buffer, index=False)
    else:
        raise ExportError(f"Unknown format {file_format!r}; use CSV, TSV, Excel or Parquet.")
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str | Path, schema: TableSchema) -> None:
    """Write to a file whose ending (.csv, .tsv, .xlsx, .parquet) picks the format."""
    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ExportError(f"Cannot tell the format from '{path.name}': end the name with .csv, .tsv, .xlsx "
                          "or .parquet.")
    try:
        path.write_bytes(table_bytes(frame, schema, file_format))
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}.") from exc
