"""Write synthetic tables to CSV, TSV, Excel or Parquet, in the formats the original file used."""

from __future__ import annotations

import csv
import io
import re
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tabular.dates import format_datetimes, is_date_only, stored_timestamps, zone_name
from tabular.formula_guard import guarded, neutralise
from tabular.parsing import STRING, format_number, numeric_labels
from tabular.schema import ColumnFormat, ColumnSpec, Kind, TableSchema
from tabular.text_reader import DELIMITERS  # the field separators the reader tells apart

FORMATS = {".csv": "CSV", ".tsv": "TSV", ".txt": "TSV", ".xlsx": "Excel", ".parquet": "Parquet"}
SPREADSHEET_FORMATS = ("CSV", "TSV", "Excel")  # the ones formula protection applies to; Parquet is left as is
TYPED_KINDS = (Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.DATETIME, Kind.YES_NO)  # never text, never protected


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
            text = values.astype("float64").map(partial(format_number, fmt=spec.format), na_action="ignore")
        elif spec.kind is Kind.DATETIME and pd.api.types.is_datetime64_any_dtype(values):
            text = format_datetimes(values, spec.format)
        elif spec.kind is Kind.YES_NO:
            text = values.map({True: spec.format.true_label, False: spec.format.false_label})
        else:
            text = values.astype(object)
        out[name] = text.where(present, None)
    return pd.DataFrame(out)


def stored_yes_no(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Yes/no for typed files: true/false as booleans, 1/0 as numbers, other words (yes/no, Y/N) as written."""
    labels = (fmt.true_label.lower(), fmt.false_label.lower())
    if labels == ("true", "false"):
        return values.astype("boolean")
    if numeric_labels(fmt):  # 1 and 0 are whole numbers however the file spelled them ('1.0', '-0')
        return values.astype("boolean").astype("Int64")
    return values.map({True: fmt.true_label, False: fmt.false_label}).astype(STRING)


def stored_values(values: pd.Series, spec: ColumnSpec, keeps_zones: bool) -> pd.Series:
    """A typed column in the native type a typed file (Excel, Parquet) should keep for its kind."""
    if spec.kind is Kind.YES_NO:
        return stored_yes_no(values, spec.format)
    if spec.kind is Kind.WHOLE_NUMBER or (spec.kind is Kind.IDENTIFIER and pd.api.types.is_numeric_dtype(values)):
        return pd.to_numeric(values).round().astype("Int64")
    if spec.kind is Kind.NUMBER:
        return pd.to_numeric(values).astype("float64")
    if spec.kind is Kind.DATETIME and pd.api.types.is_datetime64_any_dtype(values):
        return stored_timestamps(values, spec.format) if keeps_zones else values
    return values.astype(object).where(values.notna(), None).map(
        lambda v: v if v is None else str(v)).astype(STRING)


def _arrow_type(spec: ColumnSpec, values: pd.Series) -> pa.DataType | None:
    """The Parquet type of a column when pandas' own choice is not the right one (dates, time units)."""
    if pd.api.types.is_string_dtype(values):
        return pa.string()
    if spec.kind is not Kind.DATETIME or not pd.api.types.is_datetime64_any_dtype(values):
        return None
    if is_date_only(spec.format):
        return pa.date32()
    tz = getattr(values.dt, "tz", None)
    return pa.timestamp(spec.format.time_unit or "ns", tz=zone_name(tz) if tz is not None else None)


def parquet_table(frame: pd.DataFrame, schema: TableSchema) -> pa.Table:
    """The table as Arrow with the types the original file had (bool, ints, dates, zone-aware timestamps)."""
    typed = pd.DataFrame({name: stored_values(frame[name], schema.column(name), True) for name in frame.columns})
    table = pa.Table.from_pandas(typed, preserve_index=False)
    fields = []
    for name, field in zip(typed.columns, table.schema):
        wanted = _arrow_type(schema.column(name), typed[name])
        fields.append(field if wanted is None else field.with_type(wanted))
    # casting a time of day away is refused, so a date-only column really holds whole days
    return table.cast(pa.schema(fields, metadata=table.schema.metadata), safe=False)


def _excel_frame(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Excel cells cannot hold time zones: timestamps are written as the wall-clock time of the file."""
    return pd.DataFrame({name: stored_values(frame[name], schema.column(name), False) for name in frame.columns})


def _ambiguous(text: pd.DataFrame, sep: str) -> bool:
    """True when a reader could split the file elsewhere: such files are written with every field quoted.

    Python's CSV writer leaves a carriage return bare (readers end the row there) and only quotes the
    separator it writes with. Another separator in a column name can win the reader's guess of the
    separator, and in a one-column table so can one in any value.
    """
    others = "[" + "".join(re.escape(d) for d in DELIMITERS if d != sep) + "]"
    names = pd.Series([str(name) for name in text.columns])
    if names.str.contains(others + "|\r", regex=True).any():
        return True
    pattern = others + "|\r" if text.shape[1] == 1 else "\r"
    return any(text[name].dropna().astype(str).str.contains(pattern, regex=True).any() for name in text.columns)


def text_columns(frame: pd.DataFrame, schema: TableSchema) -> list[str]:
    """Columns holding text (categories, IDs, fake values, free text): the only ones formula protection touches."""
    def is_text(name) -> bool:
        values = frame[name]
        typed = (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
                 or pd.api.types.is_datetime64_any_dtype(values))
        kind = schema.column(name).kind
        if kind is Kind.CONSTANT and pd.to_numeric(values.dropna(), errors="coerce").notna().all():
            return False  # one number repeated (e.g. -3) is a number, not text
        return kind not in TYPED_KINDS and not typed
    return [name for name in frame.columns if is_text(name)]


def _protected(table: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, int]:
    """The table with formula-like text in the named columns (and headers) neutralised, and how many cells."""
    table, count = table.copy(), 0
    for name in names:
        count += int(guarded(table[name]).sum())
        table[name] = neutralise(table[name])
    table.columns = neutralise(pd.Series([str(c) for c in table.columns], dtype=object)).tolist()  # headers too
    return table, count


def export_file(frame: pd.DataFrame, schema: TableSchema, file_format: str, protect: bool = True
                ) -> tuple[bytes, int]:
    """The table as the bytes of a CSV, TSV, Excel or Parquet file, and how many text cells were protected.

    Args:
        frame: typed synthetic rows.
        schema: the real table's schema (formats, kinds).
        file_format: "CSV", "TSV", "Excel" or "Parquet".
        protect: put an apostrophe before text that a spreadsheet could run as a formula (CSV, TSV and
            Excel; see ``tabular.formula_guard``); Parquet is never changed.
    """
    buffer, count = io.BytesIO(), 0
    guard = text_columns(frame, schema) if protect else None
    if file_format in ("CSV", "TSV"):
        decimal_comma = any(schema.column(c).format.decimal_sep == "," for c in frame.columns)
        sep = "\t" if file_format == "TSV" else (";" if decimal_comma else ",")
        text = as_written(frame, schema)
        text, count = (text, 0) if guard is None else _protected(text, guard)
        quoting = csv.QUOTE_ALL if _ambiguous(text, sep) else csv.QUOTE_MINIMAL
        text.to_csv(buffer, index=False, sep=sep, quoting=quoting)
    elif file_format == "Excel":
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            sheet = _excel_frame(frame, schema)
            sheet, count = (sheet, 0) if guard is None else _protected(sheet, guard)
            sheet.to_excel(writer, index=False, sheet_name="synthetic")
    elif file_format == "Parquet":
        pq.write_table(parquet_table(frame, schema), buffer)
    else:
        raise ExportError(f"Unknown format {file_format!r}; use CSV, TSV, Excel or Parquet.")
    return buffer.getvalue(), count


def table_bytes(frame: pd.DataFrame, schema: TableSchema, file_format: str, protect: bool = True) -> bytes:
    """The bytes of ``export_file``."""
    return export_file(frame, schema, file_format, protect)[0]


def write_table(frame: pd.DataFrame, path: str | Path, schema: TableSchema, protect: bool = True) -> int:
    """Write to a file whose ending (.csv, .tsv, .xlsx, .parquet) picks the format.

    Returns how many text cells were protected from running as formulas (see ``table_bytes``).
    """
    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ExportError(f"Cannot tell the format from '{path.name}': end the name with .csv, .tsv, .xlsx "
                          "or .parquet.")
    content, protected = export_file(frame, schema, file_format, protect)
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}.") from exc
    return protected
