"""Work out each column's kind and format, and convert the table to those types."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from tabular.dates import detect_datetime_format, native_format, parse_datetimes, zone_of
from tabular.parsing import (
    STRING,
    arrow_strings,
    decimals_in,
    detect_number_style,
    detect_yes_no,
    long_whole_numbers,
    parse_numbers,
    parse_yes_no,
)
from tabular.pii import detect_personal, name_tokens
from tabular.schema import ColumnFormat, ColumnSpec, Handling, Kind, TableSchema, default_handling

SAMPLE_SIZE = 2000  # values per column used to decide its kind; counts use every row
MIN_PERSONAL_DISTINCT = 10  # a column with fewer distinct values than this is not personal data
KIND_SHARE = 0.95  # share of values that must fit a kind (the rest become missing and are counted)
ID_HINTS = {"id", "uuid", "guid", "key", "code", "ref", "reference", "number", "no", "nr", "num", "account"}
MAX_CATEGORIES = 1000  # beyond this many distinct values, text with spaces is free text


def infer_schema(frame: pd.DataFrame, source: str = "", european: bool = False) -> TableSchema:
    """Describe every column of a freshly read table.

    Args:
        frame: the table as read by ``tabular.io.read_table``.
        source: a name for where it came from (shown to the user).
        european: the file used ';' between fields, so '1,5' more likely means one and a half.
    """
    return infer_table(frame, source, european)[0]


def infer_table(frame: pd.DataFrame, source: str = "", european: bool = False
                ) -> tuple[TableSchema, dict[str, pd.Series]]:
    """Like ``infer_schema``, also returning each column converted to its kind (converted once)."""
    specs, typed = [], {}
    for name in frame.columns:
        spec, typed[name] = describe_column(frame[name], name, european=european)
        specs.append(spec)
    return TableSchema(columns=specs, n_rows=len(frame), source=source), typed


def infer_column(values: pd.Series, name: str, kind: Kind | None = None, european: bool = False) -> ColumnSpec:
    """Describe one column; with ``kind`` given, only work out the format for that kind."""
    return describe_column(values, name, kind, european)[0]


def _sample(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The non-missing values, and a random sample of them small enough to test patterns on."""
    present = values.dropna()
    if len(present) <= SAMPLE_SIZE:
        return present, present
    positions = np.random.default_rng(0).choice(len(present), SAMPLE_SIZE, replace=False)
    return present, present.iloc[np.sort(positions)]


def describe_column(values: pd.Series, name: str, kind: Kind | None = None, european: bool = False
                    ) -> tuple[ColumnSpec, pd.Series]:
    """Describe one column and convert it to its kind; with ``kind`` given, that kind is kept."""
    present, sample = _sample(values)
    if kind is None:
        kind, fmt, reason = _detect(values, present, sample, name, european)
    else:
        fmt, reason = _format_for(kind, sample, european), "Chosen by you"
    spec = ColumnSpec(name=name, kind=kind, handling=default_handling(kind), reason=reason, format=fmt)
    typed = convert_column(values, spec)
    _describe(spec, values, typed)
    return spec, typed


def _detect(values, present, sample, name, european) -> tuple[Kind, ColumnFormat, str]:
    if present.empty:
        return Kind.CONSTANT, ColumnFormat(), "The column is empty"
    if pd.api.types.is_bool_dtype(values):
        return Kind.YES_NO, ColumnFormat(true_label="True", false_label="False"), "The file stores yes/no values"
    if pd.api.types.is_datetime64_any_dtype(values):
        return Kind.DATETIME, native_format(values), "The file stores dates"
    if pd.api.types.is_numeric_dtype(values):
        return _detect_numeric(present, name, ColumnFormat(decimals=decimals_in(present)))
    return _detect_text(present, sample.astype(str), name, european)


def _detect_text(present, sample, name, european) -> tuple[Kind, ColumnFormat, str]:
    distinct = count_distinct(present)
    if distinct == 1:
        return Kind.CONSTANT, ColumnFormat(), "Every row has the same value"
    lower_values = set(present.astype(STRING).str.lower().unique()[:5]) if distinct <= 4 else set()
    pair = detect_yes_no(lower_values)
    if pair:
        return Kind.YES_NO, _yes_no_format(present, pair), "Only two values, a yes/no pair"
    plain = sample.str.fullmatch(r"[+-]?\d{1,12}([.,]\d+)?").mean() >= KIND_SHARE
    date_format, share = ("", 0.0) if plain else detect_datetime_format(sample, prefer_day_first=european)
    if share >= KIND_SHARE:
        return Kind.DATETIME, _text_date_format(date_format), f"Dates written like {date_format}"
    personal = detect_personal(sample, name) if distinct >= MIN_PERSONAL_DISTINCT and not plain else None
    if personal:
        return personal[0], ColumnFormat(), personal[1]
    if long_whole_numbers(present):
        return Kind.IDENTIFIER, ColumnFormat(), ("Whole numbers of 16 or more digits, too long to calculate with "
                                                 "exactly: kept as written, like an ID")
    style = detect_number_style(sample, prefer_decimal_comma=european)
    if style and style.share >= KIND_SHARE:
        fmt = ColumnFormat(decimal_sep=style.decimal_sep, thousands_sep=style.thousands_sep,
                           decimals=style.decimals, prefix=style.prefix, suffix=style.suffix)
        kind, _, reason = _detect_numeric(parse_numbers(present, fmt).dropna(), name, fmt)
        return kind, _number_yes_no_format(present, fmt) if kind is Kind.YES_NO else fmt, reason
    return _detect_words(present, sample, name, distinct)


def _detect_numeric(numbers: pd.Series, name: str, fmt: ColumnFormat) -> tuple[Kind, ColumnFormat, str]:
    numbers = numbers.dropna().astype(float)
    distinct = numbers.nunique()
    if distinct == 1:
        return Kind.CONSTANT, fmt, "Every row has the same value"
    if distinct == 2 and set(numbers.unique()) == {0.0, 1.0}:
        return Kind.YES_NO, ColumnFormat(true_label="1", false_label="0"), "Only the values 0 and 1"
    # Whole however written: '9.0' (how pandas writes whole numbers with gaps) is still nine; beyond 2**53
    # a float no longer holds every whole number, so such columns stay plain numbers.
    values = numbers.to_numpy()
    whole = bool(np.all(np.mod(values, 1) == 0)) and bool(np.abs(values).max() < 2**53)
    if whole and distinct == len(numbers) and len(numbers) >= 20:
        hinted = bool(name_tokens(name) & ID_HINTS)
        steps = np.diff(np.sort(numbers.to_numpy()))
        if hinted or (steps == 1).mean() > 0.9:
            return Kind.IDENTIFIER, fmt, "Every value is different and it reads like a row number or ID"
    if whole:
        return Kind.WHOLE_NUMBER, fmt, "All values are whole numbers"
    return Kind.NUMBER, fmt, "All values are numbers"


def _detect_words(present, sample, name, distinct) -> tuple[Kind, ColumnFormat, str]:
    n = len(present)
    ratio = distinct / max(n, 1)
    spaced = float(sample.str.contains(r"\s", regex=True).mean())
    mean_len = float(sample.str.len().mean())
    if n >= 20 and ratio >= 0.95 and spaced < 0.05 and mean_len <= 40:
        return Kind.IDENTIFIER, ColumnFormat(), "Every value is different and looks like a code"
    if bool(name_tokens(name) & ID_HINTS) and ratio >= 0.95 and n >= 20:
        return Kind.IDENTIFIER, ColumnFormat(), "Every value is different and the name suggests an ID"
    if mean_len >= 30 or (distinct > MAX_CATEGORIES and spaced >= 0.3) or (ratio > 0.5 and distinct > 100
                                                                            and spaced >= 0.3):
        return Kind.FREE_TEXT, ColumnFormat(), "Long or mostly unique text"
    return Kind.CATEGORY, ColumnFormat(), f"{distinct:,} distinct labels"


def _yes_no_format(present: pd.Series, pair: tuple[str, str]) -> ColumnFormat:
    counts = present.astype(str).value_counts()
    spelled = {v.lower(): v for v in counts.index[::-1]}  # most common spelling wins
    return ColumnFormat(true_label=spelled.get(pair[0], pair[0]), false_label=spelled.get(pair[1], pair[1]))


def _number_yes_no_format(present: pd.Series, fmt: ColumnFormat) -> ColumnFormat:
    """Yes/no written as numbers ('1', '1.0', '0', '-0'): the most common spelling of each answer is kept."""
    numbers = parse_numbers(present, fmt).to_numpy()
    text = present.astype(str).to_numpy()
    spelled = [pd.Series(text[numbers == value]).value_counts().index[0] for value in (1.0, 0.0)]
    return ColumnFormat(decimal_sep=fmt.decimal_sep, true_label=str(spelled[0]), false_label=str(spelled[1]))


def _text_date_format(pattern: str) -> ColumnFormat:
    return ColumnFormat(datetime_format=pattern, timezone=zone_of(pattern))


def _format_for(kind: Kind, sample: pd.Series, european: bool) -> ColumnFormat:
    """The format details a kind needs when the user chose the kind."""
    if pd.api.types.is_numeric_dtype(sample) and kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
        return ColumnFormat(decimals=decimals_in(sample))
    text = sample.astype(str)
    if kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
        style = detect_number_style(text, prefer_decimal_comma=european)
        if style:
            return ColumnFormat(decimal_sep=style.decimal_sep, thousands_sep=style.thousands_sep,
                                decimals=style.decimals, prefix=style.prefix, suffix=style.suffix)
    if kind is Kind.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(sample):
            return native_format(sample)
        return _text_date_format(detect_datetime_format(text, european)[0])
    if kind is Kind.YES_NO:
        counts = text.str.lower().value_counts()
        pair = detect_yes_no(set(counts.index[:2])) or (str(counts.index[0]), str(counts.index[-1]))
        return _yes_no_format(text, pair)
    return ColumnFormat()


def convert_column(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Give a column the type its kind calls for; values that do not fit become missing."""
    kind, fmt = spec.kind, spec.format
    if kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
        numbers = values.astype(float) if pd.api.types.is_numeric_dtype(values) else parse_numbers(values, fmt)
        if kind is Kind.WHOLE_NUMBER:
            numbers = numbers.where(np.mod(numbers, 1) == 0).round().astype("Int64")
        return numbers
    if kind is Kind.DATETIME:
        return parse_datetimes(values, fmt)
    if kind is Kind.YES_NO:
        return parse_yes_no(values, fmt)
    if kind is Kind.IDENTIFIER and pd.api.types.is_numeric_dtype(values):
        return values
    if kind is Kind.CONSTANT and values.isna().all():
        return values.astype(STRING)
    if kind is Kind.CONSTANT:
        return values
    return values.astype(STRING) if not isinstance(values.dtype, pd.StringDtype) else values


def _describe(spec: ColumnSpec, raw: pd.Series, typed: pd.Series) -> None:
    """Fill in the counts, range and categories of a spec from its converted values."""
    n = max(len(raw), 1)
    spec.missing_share = float(typed.isna().sum() / n)
    spec.invalid_count = int(raw.notna().sum() - typed.notna().sum())
    present = typed.dropna()
    spec.distinct = count_distinct(present)
    if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER) and len(present):
        spec.minimum, spec.maximum = float(present.min()), float(present.max())
    elif spec.kind is Kind.DATETIME and len(present):
        spec.minimum, spec.maximum = present.min().isoformat(), present.max().isoformat()
    elif spec.kind is Kind.CATEGORY:
        spec.categories = [str(v) for v in present.value_counts().index]
    elif spec.kind is Kind.YES_NO:
        spec.categories = [spec.format.true_label, spec.format.false_label]


def count_distinct(values: pd.Series) -> int:
    """Distinct non-missing values, fast for Arrow-backed text."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return int(pc.count_distinct(arrow_strings(values)).as_py())
    return int(values.nunique())


def to_typed(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Convert a freshly read table to the types its schema describes (dropped columns included)."""
    return pd.DataFrame({spec.name: convert_column(frame[spec.name], spec) for spec in schema.columns})


def with_kind(frame: pd.DataFrame, schema: TableSchema, name: str, kind: Kind, european: bool = False
              ) -> tuple[ColumnSpec, pd.Series]:
    """Re-describe a column as the kind the user chose, keeping their handling when it still fits."""
    old = schema.column(name)
    spec, typed = describe_column(frame[name], name, kind=kind, european=european)
    if old.handling is not Handling.FAKE or spec.is_personal:
        spec.handling = old.handling if old.kind == kind else spec.handling
    return spec, typed


def safe_name(name: str) -> str:
    """A file-system friendly version of a dataset name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "dataset"
