"""Read CSV, TSV, Excel and Parquet files into a clean DataFrame plus a report of what was fixed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from tabular.columnar import STRING_DTYPE, long_numbers_note, read_excel, read_parquet
from tabular.errors import DataReadError
from tabular.parsing import long_whole_numbers, plural
from tabular.sniffing import ENCODING_NAMES, decode, refuse_markup_or_json, refuse_non_table, unpack
from tabular.text_reader import (
    DELIMITER_NAMES,
    clean_strings,
    header_row,
    normalize_newlines,
    sniff_delimiter,
    split_text,
    values_not_names,
)

MAX_BYTES = 200 * 1024 * 1024  # the app's upload limit (matches .streamlit/config.toml)
MAX_COLUMNS = 1000  # more than this is almost always a transposed or broken file
MIN_ROWS = 2  # fewer data rows than this cannot describe a distribution
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


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
    data, file_name = _load(source, file_name, max_bytes)
    inner_name, notes = file_name, []
    for _ in range(3):  # a table inside a tar inside a gzip, at most
        data, inner_name, note = unpack(data, inner_name, max_bytes)
        if not note:
            break
        notes.append(note)
    if not data.strip():
        raise DataReadError("The file is empty.", "The file has no content at all.")
    frame, report = _read_format(data, file_name, _sniff_format(data, inner_name), notes)
    _note_long_numbers(frame, report.notes)
    return ReadResult(frame=frame, report=report)


def _read_format(data: bytes, file_name: str, fmt: str, notes: list[str]) -> tuple[pd.DataFrame, ReadReport]:
    """The tidied table and its report, read as the sniffed format."""
    if fmt.startswith("misnamed"):
        return _read_misnamed(data, file_name, notes, fmt.split(":", 1)[1])
    if fmt == "Excel":
        report = ReadReport(file_name, "Excel", notes=notes)
        frame = read_excel(data, report.notes)
    elif fmt == "Parquet":
        report = ReadReport(file_name, "Parquet", notes=notes)
        frame = read_parquet(data, report.notes)
    else:
        frame, report = _read_text(data, file_name, notes)
    return _tidy(frame, report), report


def _load(source: bytes | str | Path, file_name: str | None, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        file_name = file_name or path.name
        if path.is_dir():
            raise DataReadError(f"{path} is a folder, not a file. Please choose the table file inside it.")
        if not path.is_file():
            raise DataReadError(f"There is no file at {path}.")
        if path.stat().st_size > max_bytes:
            raise _too_large(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    else:
        data = bytes(source)
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data, file_name or "data.csv"


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
    refuse_non_table(data)
    if suffix in EXCEL_SUFFIXES or suffix == ".xls":
        return "misnamed:Excel"
    if suffix in PARQUET_SUFFIXES:
        return "misnamed:Parquet"
    return "CSV"


def _read_misnamed(data: bytes, file_name: str, notes: list[str], named: str) -> tuple[pd.DataFrame, ReadReport]:
    """A file named .xlsx or .parquet that holds text: read it as CSV if it is one, and say so."""
    what = "an Excel file but is not a valid .xlsx workbook" if named == "Excel" else \
        "a Parquet file but is not a valid Parquet file"
    try:
        frame, report = _read_text(data, file_name, notes)
        frame = _tidy(frame, report)
    except DataReadError as exc:
        raise DataReadError(f"The file is named like {what}.", exc.message) from exc
    report.notes.insert(0, f"The file is named like {'an Excel' if named == 'Excel' else 'a Parquet'} file but "
                           "holds CSV text, so it was read as CSV.")
    return frame, report


def _read_text(data: bytes, file_name: str, notes: list[str]) -> tuple[pd.DataFrame, ReadReport]:
    text, encoding, decode_notes = decode(data)
    refuse_markup_or_json(text)
    text = normalize_newlines(text)
    delimiter, width = sniff_delimiter(text)
    report = ReadReport(file_name, "CSV", ENCODING_NAMES[encoding], DELIMITER_NAMES[delimiter],
                        notes=notes + decode_notes)
    if width > MAX_COLUMNS:
        raise _too_many_columns(width)
    table, starts = split_text(text, delimiter, width, report.notes)
    table = clean_strings(table)
    top = header_row([list(r.values()) for r in table.slice(0, 12).to_pylist()])
    if top:
        where = f"line {starts[top] if starts else _nonblank_line(text, top):,}"
        report.notes.append(f"The column names are on {where}; the text above them (such as a title) was skipped.")
    header = [table.column(i)[top].as_py() if table.num_rows else None for i in range(table.num_columns)]
    if values_not_names(header):
        report.notes.append("The first line holds values, not column names, so it was read as data; the columns "
                            "are called column_1, column_2 and so on.")
        header, top = [None] * len(header), top - 1
    frame = table.slice(top + 1).to_pandas(types_mapper={pa.string(): STRING_DTYPE}.get)
    frame.columns = [h if h is not None else "" for h in header]
    return frame, report


def _nonblank_line(text: str, index: int) -> int:
    """The (1-based) line number of the ``index``-th non-blank line, as a fast parse skips blank ones."""
    seen = -1
    for number, line in enumerate(text.split("\n", 64)[:64], start=1):
        seen += bool(line.strip())
        if seen == index:
            return number
    return index + 1


def _note_long_numbers(frame: pd.DataFrame, notes: list[str]) -> None:
    """Say which text columns hold whole numbers too long to calculate with (inference makes them IDs)."""
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype) and long_whole_numbers(frame[name]):
            notes.append(long_numbers_note(name))


def _too_many_columns(width: int) -> DataReadError:
    return DataReadError(
        f"The file has {width:,} columns; the app handles at most {MAX_COLUMNS:,}. "
        "Please keep only the columns you need."
    )


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
