"""Read CSV, TSV, Excel and Parquet files into a clean DataFrame plus a report of what was fixed."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tabular.errors import DataReadError

MAX_BYTES = 200 * 1024 * 1024  # the app's upload limit (matches .streamlit/config.toml)
MAX_COLUMNS = 1000  # more than this is almost always a transposed or broken file
MIN_ROWS = 2  # fewer data rows than this cannot describe a distribution
DELIMITERS = (",", ";", "\t", "|")
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "?", "#n/a", "missing")
TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
STRING_DTYPE = pd.StringDtype("pyarrow")
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16",
                  "cp1252": "Windows-1252", "latin-1": "Latin-1"}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class ReadReport:
    """What the reader found and fixed, in plain words."""

    file_name: str
    file_format: str  # "CSV", "Excel" or "Parquet"
    encoding: str = ""
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    """A table as read: strings for text files, native types for Excel and Parquet."""

    frame: pd.DataFrame
    report: ReadReport


def read_table(source: bytes | str | Path, file_name: str | None = None,
               max_bytes: int = MAX_BYTES) -> ReadResult:
    """Read a user's file, repairing what can be repaired.

    Args:
        source: the file's bytes, or a path to it.
        file_name: the name shown to the user and used to guess the format.
        max_bytes: files larger than this are refused with a clear message.

    Raises:
        DataReadError: the file cannot be read; its message is meant for the user.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        file_name = file_name or path.name
        if not path.is_file():
            raise DataReadError(f"There is no file at {path}.")
        if path.stat().st_size > max_bytes:
            raise _too_large(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    else:
        data = bytes(source)
    file_name = file_name or "data.csv"
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data.strip():
        raise DataReadError("The file is empty.", "The file has no content at all.")
    fmt = _sniff_format(data, file_name)
    if fmt == "Excel":
        frame, report = _read_excel(data, file_name)
    elif fmt == "Parquet":
        frame, report = _read_parquet(data, file_name)
    else:
        frame, report = _read_text(data, file_name)
    frame = _tidy(frame, report)
    return ReadResult(frame=frame, report=report)


def _too_large(size: int, limit: int) -> DataReadError:
    return DataReadError(
        f"The file is {size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit. "
        "Try a smaller extract, or save it as Parquet, which is much smaller."
    )


def _sniff_format(data: bytes, file_name: str) -> str:
    """Decide the format from the file's first bytes, falling back on its name."""
    suffix = Path(file_name).suffix.lower()
    if data[:4] == b"PAR1":
        return "Parquet"
    if data[:4] == b"PK\x03\x04":
        return "Excel"
    if suffix in EXCEL_SUFFIXES or suffix == ".xls":
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise DataReadError(
                "This is an old-style Excel file (.xls). Please open it in Excel and save it as .xlsx or CSV."
            )
        raise DataReadError("The file is named like an Excel file but is not a valid .xlsx workbook.")
    if suffix in PARQUET_SUFFIXES:
        raise DataReadError("The file is named like a Parquet file but is not a valid Parquet file.")
    return "CSV"


def _decode(data: bytes) -> tuple[str, str]:
    """Turn bytes into text, trying the encodings users' files really come in."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    head = data[:65536]
    if b"\x00" in head or _control_share(head) > 0.05:
        raise DataReadError(
            "This does not look like a table: the file holds binary data, not text.",
            "Supported formats are CSV/TSV text, Excel (.xlsx) and Parquet.",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _control_share(head: bytes) -> float:
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls / max(len(head), 1)


def _sniff_delimiter(text: str) -> tuple[str, int]:
    """Pick the delimiter that splits the first lines into the most consistent number of fields.

    Returns the delimiter and the table's width: the header's, or the usual row's when wider.
    """
    head = text[:200_000]
    cut = head.rfind("\n")
    head = head[: cut if cut > 0 else len(head)]
    best, best_score, best_width = ",", -1.0, 1
    for delim in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(head), delimiter=delim) if any(f.strip() for f in r)]
        except csv.Error:
            continue
        if not rows:
            continue
        widths = Counter(len(r) for r in rows)
        width, count = widths.most_common(1)[0]
        score = (count / len(rows)) * (1 if width > 1 else 0) + 0.001 * min(width, 50)
        if score > best_score:
            best, best_score, best_width = delim, score, max(len(rows[0]), width)
    return best, best_width


def _read_text(data: bytes, file_name: str) -> tuple[pd.DataFrame, ReadReport]:
    text, encoding = _decode(data)
    delimiter, width = _sniff_delimiter(text)
    report = ReadReport(file_name, "CSV", ENCODING_NAMES[encoding], DELIMITER_NAMES[delimiter])
    if encoding not in ("utf-8", "utf-8-sig"):
        report.notes.append(f"Read the text as {ENCODING_NAMES[encoding]} (it is not UTF-8).")
    if width > MAX_COLUMNS:
        raise _too_many_columns(width)
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    table = _parse_with_arrow(utf8, delimiter, width)
    if table is None:
        table = _parse_with_pandas(text, delimiter, width, report)
    table = _clean_strings(table)
    header = [table.column(i)[0].as_py() if table.num_rows else None for i in range(table.num_columns)]
    body = table.slice(1)
    frame = body.to_pandas(types_mapper={pa.string(): STRING_DTYPE, pa.large_string(): STRING_DTYPE}.get)
    frame.columns = [h if h is not None else "" for h in header]
    return frame, report


def _parse_with_arrow(utf8: bytes, delimiter: str, width: int) -> pa.Table | None:
    """Fast multi-threaded parse; returns None when some rows need the forgiving parser."""
    names = [f"c{i}" for i in range(width)]
    bad_rows: list[int] = []

    def on_bad_row(row) -> str:
        bad_rows.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None if bad_rows else table


def _parse_with_pandas(text: str, delimiter: str, width: int, report: ReadReport) -> pa.Table:
    """Forgiving parse: short rows are padded, long rows cut, and the cut ones counted."""
    cut = []

    def on_bad_line(fields: list[str]) -> list[str]:
        if any(f.strip() for f in fields[width:]):
            cut.append(1)
        return fields[:width]

    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, names=list(range(width)),
                            dtype=str, keep_default_na=False, engine="python", on_bad_lines=on_bad_line,
                            skip_blank_lines=True)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataReadError("The file could not be read as a table.", str(exc)) from exc
    if cut:
        report.notes.append(f"{plural(len(cut), 'row')} had more fields than the header; "
                            "the extra fields were left out.")
    frame = frame.fillna("")
    return pa.Table.from_pandas(frame.astype(str), preserve_index=False)


def _clean_strings(table: pa.Table) -> pa.Table:
    """Trim spaces and turn the usual spellings of 'missing' into real missing values."""
    tokens = pa.array(MISSING_TOKENS)
    columns = []
    for col in table.columns:
        trimmed = pc.utf8_trim_whitespace(col)
        missing = pc.is_in(pc.utf8_lower(trimmed), value_set=tokens)
        columns.append(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed))
    return pa.table(columns, names=table.column_names)


def _too_many_columns(width: int) -> DataReadError:
    return DataReadError(
        f"The file has {width:,} columns; the app handles at most {MAX_COLUMNS:,}. "
        "Please keep only the columns you need."
    )


def _read_excel(data: bytes, file_name: str) -> tuple[pd.DataFrame, ReadReport]:
    report = ReadReport(file_name, "Excel")
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        sheet = book.sheet_names[0]
        raw = book.parse(sheet, header=None, dtype=object)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise DataReadError("The Excel file could not be opened. Is it a valid .xlsx workbook?",
                            f"{type(exc).__name__}: {exc}") from exc
    if len(book.sheet_names) > 1:
        report.notes.append(f"The workbook has {len(book.sheet_names)} sheets; read the first one, '{sheet}'.")
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        raise DataReadError("The first sheet of the workbook is empty.")
    header = ["" if pd.isna(v) else str(v).strip() for v in raw.iloc[0]]
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    frame = pd.DataFrame({i: _native_column(body[i]) for i in body.columns})
    frame.columns = header
    return frame, report


def _native_column(values: pd.Series) -> pd.Series:
    """Give a column of Excel cells one type: numbers, dates, booleans, or cleaned strings."""
    present = values.dropna()
    if len(present) and all(isinstance(v, bool) for v in present):
        return values.astype("boolean")
    if len(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.to_numeric(values)
    if len(present) and all(isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat") for v in present):
        return pd.to_datetime(values, errors="coerce")
    strings = values.map(lambda v: None if pd.isna(v) else str(v))
    cleaned = _clean_strings(pa.table({"x": pa.array(strings, type=pa.string())})).column(0)
    return pd.Series(cleaned.to_pandas(types_mapper={pa.string(): STRING_DTYPE}.get), index=values.index)


def _read_parquet(data: bytes, file_name: str) -> tuple[pd.DataFrame, ReadReport]:
    report = ReadReport(file_name, "Parquet")
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for broken files
        raise DataReadError("The Parquet file could not be read. Is it complete?",
                            f"{type(exc).__name__}: {exc}") from exc
    frame = frame.reset_index(drop=True)
    out = {}
    for i, name in enumerate(frame.columns):
        col = frame.iloc[:, i]
        out[i] = _native_column(col) if col.dtype == object or pd.api.types.is_string_dtype(col) else col
    result = pd.DataFrame(out)
    result.columns = ["" if n is None else str(n).strip() for n in frame.columns]
    return result, report


def _tidy(frame: pd.DataFrame, report: ReadReport) -> pd.DataFrame:
    """Name every column uniquely, drop empty trailing rows/columns, and check the size."""
    names = [str(n).strip() for n in frame.columns]
    empty_unnamed = [i for i, n in enumerate(names) if not n and frame.iloc[:, i].isna().all()]
    if empty_unnamed:
        keep = [i for i in range(len(names)) if i not in set(empty_unnamed)]
        frame, names = frame.iloc[:, keep], [names[i] for i in keep]
        report.notes.append(f"Left out {plural(len(empty_unnamed), 'empty column')} without a name.")
    frame = frame.copy()
    frame.columns = _unique_names(names, report)
    if frame.shape[1] > MAX_COLUMNS:
        raise _too_many_columns(frame.shape[1])
    blank = frame.isna().all(axis=1)
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        report.notes.append(f"Left out {plural(int(blank.sum()), 'empty row')}.")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataReadError("The file has column names but no rows of data.")
    if len(frame) < MIN_ROWS:
        raise DataReadError(
            f"The file has only {len(frame)} row of data. A synthetic copy needs at least {MIN_ROWS} rows, "
            "and works best with a few hundred or more."
        )
    return frame


def plural(n: int, noun: str) -> str:
    """'1 empty row', '3 empty rows'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _unique_names(names: list[str], report: ReadReport) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    renamed = 0
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        renamed += candidate != name
        seen.add(candidate)
        out.append(candidate)
    if renamed:
        report.notes.append(f"Gave {plural(renamed, 'blank or repeated column name')} a unique name.")
    return out
