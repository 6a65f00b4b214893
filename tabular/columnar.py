"""Read Parquet and Excel files, turning every column type into one the app can work with, and saying so."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tabular.errors import DataReadError
from tabular.parsing import STRING as STRING_DTYPE
from tabular.text_reader import clean_strings, header_row

ARROW_TO_PANDAS = {pa.string(): STRING_DTYPE, pa.bool_(): pd.BooleanDtype()}
EXACT_LIMIT = 2 ** 53  # whole numbers beyond this cannot be computed with exactly (as float64)
INDEX_COLUMN = re.compile(r"__index_level_\d+__")  # pandas' unnamed index, stored as a column
NS_RANGE = (pd.Timestamp.min.value // 10 ** 9 + 1, pd.Timestamp.max.value // 10 ** 9 - 1)  # in seconds


def read_parquet(data: bytes, notes: list[str]) -> pd.DataFrame:
    """The table with every column in a type the app works with (strings, numbers, booleans, timestamps)."""
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for broken files
        raise DataReadError("The Parquet file could not be read. Is it complete?",
                            f"{type(exc).__name__}: {exc}") from exc
    series, names = {}, []
    for name, column in zip(table.column_names, table.columns):
        if INDEX_COLUMN.fullmatch(str(name)):
            continue
        converted = _convert(str(name), column, notes)
        if converted is None:
            continue
        if pa.types.is_string(converted.type):
            converted = clean_strings(pa.table({"x": converted})).column(0)
        series[len(names)] = converted.to_pandas(types_mapper=ARROW_TO_PANDAS.get)
        names.append(name)
    frame = pd.DataFrame(series, index=pd.RangeIndex(table.num_rows))
    frame.columns = ["" if n is None else str(n).strip() for n in names]
    return frame


def _convert(name: str, col: pa.ChunkedArray, notes: list[str]) -> pa.ChunkedArray | None:
    """One Parquet column as strings, numbers, booleans or nanosecond timestamps (None: left out)."""
    kind = col.type
    if pa.types.is_dictionary(kind):
        return _convert(name, col.cast(kind.value_type), notes)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _timestamps(name, col, notes)
    if pa.types.is_time(kind):
        return pa.chunked_array([pa.array([None if v is None else v.isoformat() for v in col.to_pylist()],
                                          pa.string())])
    if pa.types.is_duration(kind):
        notes.append(f"Column '{name}' holds durations; they are read as a number of seconds.")
        seconds = pc.divide(col.cast(pa.int64()).cast(pa.float64()), _per_second(kind.unit))
        return seconds
    if pa.types.is_decimal(kind):
        if kind.precision > 15:
            notes.append(f"Column '{name}' holds decimals with up to {kind.precision} digits; they are read as "
                         "numbers, which keep about 15 significant digits.")
        return col.cast(pa.float64())
    if pa.types.is_integer(kind):
        return _integers(col)
    if pa.types.is_floating(kind):
        return col.cast(pa.float64()) if kind.bit_width < 32 else col
    if pa.types.is_boolean(kind):
        return col
    if pa.types.is_nested(kind):
        notes.append(f"Column '{name}' holds {_nested_word(kind)} in each cell; they are kept as text "
                     "(written like JSON), so each distinct value counts as one category.")
        return pa.chunked_array([pa.array([_as_json(v, kind) for v in col.to_pylist()], pa.string())])
    return _as_text(name, col, notes)


def _timestamps(name: str, col: pa.ChunkedArray, notes: list[str]) -> pa.ChunkedArray:
    """Dates and times as timestamps in the file's own unit (dates: seconds), so an export can write that unit
    back; text when out of the range every unit can compute with."""
    tz = col.type.tz if pa.types.is_timestamp(col.type) else None
    if tz:
        notes.append(f"Column '{name}' stores times in the {tz} time zone; they are read as local times there.")
    seconds = pc.cast(pc.cast(col, pa.timestamp("s", tz=tz), safe=False), pa.int64())
    low, high = pc.min_max(seconds).values()
    if low.as_py() is not None and (low.as_py() < NS_RANGE[0] or high.as_py() > NS_RANGE[1]):
        notes.append(f"Column '{name}' has dates before 1678 or after 2261, which the app cannot compute with; "
                     "they are kept as text.")
        return pa.chunked_array([pa.array([None if v is None else v.isoformat() for v in col.to_pylist()],
                                          pa.string())])
    unit = col.type.unit if pa.types.is_timestamp(col.type) else "s"
    return pc.cast(col, pa.timestamp(unit, tz=tz))


def _per_second(unit: str) -> float:
    return {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]


def _integers(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Whole numbers as int64, or as exact text when some are too long to compute with."""
    low, high = pc.min_max(col).values()
    if low.as_py() is None or (-EXACT_LIMIT <= low.as_py() and high.as_py() <= EXACT_LIMIT):
        return col.cast(pa.int64()) if col.type == pa.uint64() else col
    return col.cast(pa.string())  # tabular.io notes it, as for text files


def long_numbers_note(name: str) -> str:
    """The note for a column of whole numbers too long to compute with exactly."""
    return (f"Column '{name}' holds whole numbers of 16 or more digits, too long to calculate with exactly; "
            "they are kept exactly as written, as text (like an ID), not as numbers.")


def _nested_word(kind: pa.DataType) -> str:
    if pa.types.is_map(kind):
        return "a set of key-value pairs"
    return "a group of named fields" if pa.types.is_struct(kind) else "a list of values"


def _as_json(value: object, kind: pa.DataType) -> str | None:
    if value is None:
        return None
    if pa.types.is_map(kind) and all(isinstance(k, str) for k, _ in value):
        value = dict(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _as_text(name: str, col: pa.ChunkedArray, notes: list[str]) -> pa.ChunkedArray | None:
    """Strings stay strings; binary that is UTF-8 text becomes text; other binary is left out, with a note."""
    try:
        return col.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        notes.append(f"Column '{name}' holds raw binary data (such as images or files), which cannot be "
                     "synthesized; it was left out.")
        return None


def read_excel(data: bytes, notes: list[str]) -> pd.DataFrame:
    """The first sheet that holds data, with native types, past any title rows above the column names."""
    sheet, raw = _first_sheet_with_data(data, notes)
    if raw.isna().any().any():
        _note_unsaved_formulas(data, sheet, notes)
    top = header_row(raw.head(12).astype(object).where(raw.head(12).notna(), None).values.tolist())
    if top:
        notes.append(f"Skipped {top} row{'s' if top > 1 else ''} above the column names (such as a title); "
                     f"the column names are on row {raw.index[top] + 1} of the sheet.")
    header, top = _header_names(data, sheet, raw, top, notes)
    body = raw.iloc[top + 1:].reset_index(drop=True)
    frame = pd.DataFrame({i: _native_column(body.iloc[:, i]) for i in range(body.shape[1])})
    frame.columns = header
    return frame


def _first_sheet_with_data(data: bytes, notes: list[str]) -> tuple[str, pd.DataFrame]:
    """The first sheet with any value, without its empty rows and columns (labels stay the sheet's positions)."""
    name, raw = "", pd.DataFrame()
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        for name in book.sheet_names:
            raw = book.parse(name, header=None, dtype=object).dropna(how="all").dropna(axis=1, how="all")
            if not raw.empty:
                break
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise DataReadError("The Excel file could not be opened. Is it a valid .xlsx workbook?",
                            f"{type(exc).__name__}: {exc}") from exc
    if raw.empty:
        raise DataReadError("Every sheet of the workbook is empty.")
    if len(book.sheet_names) > 1:
        which = "the first one" if name == book.sheet_names[0] else "the first one with data"
        notes.append(f"The workbook has {len(book.sheet_names)} sheets; read {which}, '{name}'.")
    return name, raw


def _header_names(data: bytes, sheet: str, raw: pd.DataFrame, top: int, notes: list[str]) -> tuple[list[str], int]:
    """Column names, and the row they end on: under cells merged across columns, a row of sub-headings joins in."""
    header = ["" if pd.isna(v) else str(v).strip() for v in raw.iloc[top]]
    if all(header) or top + 2 >= len(raw):
        return header, top
    sheet_row = raw.index[top] + 1  # pandas' row labels are the sheet's rows, from 0
    ranges = openpyxl.load_workbook(io.BytesIO(data))[sheet].merged_cells.ranges  # not in read-only mode
    spans = [(r.min_col - 1, r.max_col - 1) for r in ranges if r.min_row == sheet_row and r.max_col > r.min_col]
    if not spans:
        return header, top
    labels = dict(zip(raw.columns, header))
    for low, high in spans:
        for column in range(low + 1, high + 1):
            labels[column] = labels.get(column) or labels.get(low, "")
    sub = ["" if pd.isna(v) else str(v).strip() for v in raw.iloc[top + 1]]
    names = [" ".join(p for p in (labels[c], s) if p) for c, s in zip(raw.columns, sub)]
    joined = [n for n, s, c in zip(names, sub, raw.columns) if s and labels[c]]
    notes.append(f"The column names span rows {sheet_row} and {sheet_row + 1} (a heading merged over several "
                 f"columns, with sub-headings under it); they were joined, such as '{(joined or names)[0]}'.")
    return names, top + 1


def _note_unsaved_formulas(data: bytes, sheet: str, notes: list[str]) -> None:
    """Formulas whose results were never saved (files written by scripts) read as empty: say so."""
    formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)[sheet]
    values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)[sheet]
    count = sum(isinstance(f, str) and f.startswith("=") and v is None
                for frow, vrow in zip(formulas.iter_rows(values_only=True), values.iter_rows(values_only=True))
                for f, v in zip(frow, vrow))
    if count:
        notes.append(f"{count:,} cell{'s' if count > 1 else ''} hold formulas whose results were not saved in the "
                     "file, so they are read as empty. Open the file in Excel and save it again to keep the "
                     "results.")


def _native_column(values: pd.Series) -> pd.Series:
    """Give a column of Excel cells one type: numbers, dates, booleans, or cleaned strings."""
    present = values.dropna()
    if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
        return values.astype("boolean")
    if len(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.to_numeric(values)
    if len(present) and all(isinstance(v, (dt.datetime, dt.date)) for v in present):
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    strings = values.map(lambda v: None if pd.isna(v) else v.isoformat() if isinstance(v, dt.time) else str(v))
    cleaned = clean_strings(pa.table({"x": pa.array(strings, type=pa.string())})).column(0)
    return pd.Series(cleaned.to_pandas(types_mapper={pa.string(): STRING_DTYPE}.get), index=values.index)
