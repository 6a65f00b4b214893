"""Check an exported file against the real table's schema, and say in plain words what is not faithful."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq

from tabular.dates import is_date_only, zone_of
from tabular.errors import DataReadError
from tabular.export import SPREADSHEET_FORMATS, TYPED_KINDS
from tabular.formula_guard import restore
from tabular.infer import convert_column, infer_column
from tabular.io import read_table
from tabular.parsing import numeric_labels
from tabular.privacy import POOLED_LABEL
from tabular.schema import ColumnSpec, Handling, Kind, TableSchema

FILE_NAMES = {"CSV": "synthetic.csv", "TSV": "synthetic.tsv", "Excel": "synthetic.xlsx",
              "Parquet": "synthetic.parquet"}
LEARNED_KINDS = (Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.DATETIME, Kind.YES_NO, Kind.CATEGORY)
TEXT_FORMATS = ("CSV", "TSV")
# Kinds a fresh read may see in a synthetic column without anything being wrong: a sample can draw only two
# of the categories, or (fewer rows) only distinct values, which reads like an identifier.
SAMPLE_DRIFT = {Kind.CATEGORY: (Kind.YES_NO, Kind.CONSTANT, Kind.IDENTIFIER), Kind.WHOLE_NUMBER: (Kind.IDENTIFIER,)}


def export_problems(content: bytes, file_format: str, schema: TableSchema, protected: bool = True) -> list[str]:
    """What is wrong with an exported file, compared with the real table it copies (empty when faithful).

    The file is read back with the app's own reader, text protected from running as formulas is restored
    (``tabular.formula_guard``), and each column checked against the real column's spec: values of its kind,
    in its range, written the way the real file wrote them, of the same kind when read afresh, and (for
    Parquet) stored with the same type.

    Args:
        content: the bytes of the exported file.
        file_format: "CSV", "TSV", "Excel" or "Parquet".
        schema: the schema of the real table the synthetic one was made from.
        protected: whether the export was written with formula protection on (the default).
    """
    try:
        frame = read_table(content, FILE_NAMES[file_format]).frame
    except DataReadError as exc:
        return [f"The {file_format} file cannot be read back: {exc.message}"]
    if protected and file_format in SPREADSHEET_FORMATS:
        frame = restored(frame, schema)
    kept = [c.name for c in schema.columns if c.handling is not Handling.DROP]
    problems = [] if list(frame.columns) == kept else [
        f"The columns are {', '.join(map(str, frame.columns))}; expected {', '.join(kept)}."]
    for spec in schema.columns:
        if spec.name in frame.columns and spec.handling is not Handling.DROP:
            found = column_problems(frame[spec.name], spec, file_format in TEXT_FORMATS)
            problems += [f"Column '{spec.name}': {problem}" for problem in found]
    if file_format == "Parquet":
        problems += parquet_type_problems(content, schema)
    return problems


def restored(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """A read-back export with protected text cells as they were before protection (text columns only)."""
    frame = frame.copy()
    for spec in schema.columns:
        if spec.name in frame.columns and spec.kind not in TYPED_KINDS:
            frame[spec.name] = restore(frame[spec.name])
    return frame


def column_problems(raw: pd.Series, spec: ColumnSpec, as_text: bool) -> list[str]:
    """What is wrong with one exported column (as read back) compared with the real column's spec."""
    typed = convert_column(raw, spec)
    lost = raw.notna() & typed.isna()
    problems = []
    if lost.any():
        problems.append(f"{int(lost.sum())} values are not valid for a {spec.kind.label.lower()} column "
                        f"(e.g. {_examples(raw[lost])}).")
    present = typed.dropna()
    if spec.handling is Handling.NEW_IDS and present.duplicated().any():
        problems.append(f"{int(present.duplicated().sum())} new IDs repeat an earlier one.")
    if spec.handling is not Handling.SYNTHESIZE:
        return problems
    problems += _range_problems(present, spec)
    if as_text:
        problems += _spelling_problems(raw.dropna().astype(str), spec)
    return problems + _kind_problems(raw, spec)


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(str(v)) for v in values.drop_duplicates().head(n))


def _range_problems(present: pd.Series, spec: ColumnSpec) -> list[str]:
    """Numbers and dates inside the real range, numbers at the real precision, categories known."""
    if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER) and len(present) and spec.minimum is not None:
        x = present.astype(float)
        slack = 0.5 * 10.0 ** -spec.format.decimals
        outside = x[(x < float(spec.minimum) - slack) | (x > float(spec.maximum) + slack)]
        rounded = x[(x - x.round(spec.format.decimals)).abs() > 1e-9]
        return ([(f"{len(outside)} values lie outside the real range {spec.minimum:g} to {spec.maximum:g} "
                  f"(e.g. {_examples(outside)}).")] if len(outside) else []) + (
            [f"{len(rounded)} values have more than {spec.format.decimals} decimals (e.g. {_examples(rounded)})."]
            if len(rounded) else [])
    if spec.kind is Kind.DATETIME and len(present) and spec.minimum is not None:
        low, high = pd.Timestamp(spec.minimum), pd.Timestamp(spec.maximum)
        outside = present[(present < low) | (present > high)]
        return [f"{len(outside)} dates lie outside the real range {low} to {high} (e.g. {_examples(outside)})."
                ] if len(outside) else []
    if spec.kind is Kind.CATEGORY and spec.categories is not None:
        known = set(spec.categories) | {POOLED_LABEL}  # rare categories are pooled as "Other" by protections
        unknown = present[~present.astype(str).isin(known)]
        return [f"{len(unknown)} values are not among the real categories (e.g. {_examples(unknown)})."
                ] if len(unknown) else []
    return []


def _spelling_problems(text: pd.Series, spec: ColumnSpec) -> list[str]:
    """Text files write numbers with the real decimal count and yes/no in the real words."""
    fmt = spec.format
    if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
        found = text.str.extract(rf"\{fmt.decimal_sep}(\d+)\D*$", expand=False)
        digits = found.map(lambda v: len(v) if isinstance(v, str) else 0)
        odd = text[digits != fmt.decimals]
        return [f"{len(odd)} values are not written with {fmt.decimals} decimals (e.g. {_examples(odd)})."
                ] if len(odd) else []
    if spec.kind is Kind.YES_NO:
        odd = text[~text.isin({fmt.true_label, fmt.false_label})]
        return [(f"{len(odd)} values are not written '{fmt.true_label}' or '{fmt.false_label}' "
                 f"(e.g. {_examples(odd)}).")] if len(odd) else []
    return []


def _kind_problems(raw: pd.Series, spec: ColumnSpec) -> list[str]:
    """Read afresh, the column is understood as the same kind (unless too few values say anything)."""
    if spec.kind not in LEARNED_KINDS or raw.nunique() < 3:
        return []
    fresh = infer_column(raw, spec.name).kind
    if fresh is spec.kind or fresh in SAMPLE_DRIFT.get(spec.kind, ()):
        return []
    return [f"reads back as {fresh.label.lower()}, not {spec.kind.label.lower()}."]


def parquet_type_name(spec: ColumnSpec) -> str | None:
    """The Parquet (Arrow) type a faithful export stores a column in; None when any type may do."""
    fmt = spec.format
    if spec.kind is Kind.YES_NO:
        labels = (fmt.true_label.lower(), fmt.false_label.lower())
        return "bool" if labels == ("true", "false") else "int64" if numeric_labels(fmt) else "string"
    if spec.kind is Kind.DATETIME:
        if is_date_only(fmt):
            return "date32[day]"
        zone = fmt.timezone or zone_of(fmt.datetime_format)
        return f"timestamp[{fmt.time_unit or 'ns'}" + (f", tz={zone}]" if zone else "]")
    names = {Kind.WHOLE_NUMBER: "int64", Kind.NUMBER: "double", Kind.CATEGORY: "string",
             Kind.FREE_TEXT: "string"}
    return names.get(spec.kind, "string" if spec.is_personal else None)


def parquet_type_problems(content: bytes, schema: TableSchema) -> list[str]:
    """Columns a Parquet export stores in another type than the real column's."""
    stored = {field.name: str(field.type) for field in pq.read_schema(io.BytesIO(content))}
    problems = []
    for spec in schema.columns:
        wanted = parquet_type_name(spec)
        if spec.name in stored and wanted and stored[spec.name] != wanted:
            problems.append(f"Column '{spec.name}' is stored as {stored[spec.name]}, not {wanted}.")
    return problems

