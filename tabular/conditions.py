"""What a user asks the synthetic rows to be: fixed values, ranges and a target mix, checked on typed tables.

A request is plain data: ``Conditions`` holds row conditions (``Condition``: a column, an operator and a
typed value) that every row must meet, and at most one ``Mix`` (the shares of a column's values). The same
object is parsed from the command line (``--where``, ``--balance``), built by the Export step, checked on
rows (``met``) and described in words (``words``; a shaped export keeps its words with its scores). Models
turn it into their own form in ``models.conditional``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tabular.dates import parse_datetimes
from tabular.parsing import parse_numbers, written_in
from tabular.schema import MODELLED_KINDS, NUMERIC_KINDS, ColumnSpec, Handling, Kind, TableSchema

OPERATORS = ("=", ">", ">=", "<", "<=")
_WHERE = re.compile(r"^\s*(.+?)\s*(>=|<=|=|>|<)\s*(.*?)\s*$", re.S)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}
_SYMBOLS = {"=": "=", ">": ">", ">=": "≥", "<": "<", "<=": "≤"}


class ConditionError(ValueError):
    """A request the rows cannot meet or the app cannot read, in plain words (often with what would work)."""


@dataclass(frozen=True)
class Condition:
    """Every row has ``column`` ``op`` ``value``; the value is typed like the column (text for categories)."""

    column: str
    op: str
    value: Any

    @property
    def fixed(self) -> bool:
        return self.op == "="

    def words(self) -> str:
        return f"{self.column} {_SYMBOLS[self.op]} {show(self.value)}"


@dataclass(frozen=True)
class Mix:
    """The share of each listed value of ``column`` in the rows (shares add up to 1)."""

    column: str
    shares: tuple[tuple[Any, float], ...]

    def words(self) -> str:
        return f"{self.column}: " + ", ".join(f"{show(v)} {share:.0%}" for v, share in self.shares)

    def counts(self, n: int) -> list[tuple[Any, int]]:
        """Rows per value for ``n`` rows (largest remainders, so they add up to ``n``)."""
        exact = np.array([share for _, share in self.shares]) * n
        counts = np.floor(exact).astype(int)
        for i in np.argsort(-(exact - counts), kind="stable")[: n - int(counts.sum())]:
            counts[i] += 1
        return [(value, int(c)) for (value, _), c in zip(self.shares, counts)]


@dataclass(frozen=True)
class Conditions:
    """Row conditions every row meets, and at most one target mix."""

    where: tuple[Condition, ...] = ()
    mix: Mix | None = None

    def __bool__(self) -> bool:
        return bool(self.where) or self.mix is not None

    @property
    def columns(self) -> list[str]:
        names = [c.column for c in self.where] + ([self.mix.column] if self.mix else [])
        return list(dict.fromkeys(names))

    def words(self) -> str:
        """The request in plain words, e.g. "churn = Yes and amount > 10000"."""
        parts = [c.words() for c in self.where] + ([f"mix of {self.mix.words()}"] if self.mix else [])
        return " and ".join(parts) if parts else "no conditions"

    def with_fixed(self, column: str, value: Any) -> Conditions:
        """These row conditions plus ``column = value`` (no mix): one part of a mixed request."""
        return Conditions(self.where + (Condition(column, "=", value),))

    def parts(self, n: int = 0) -> list[tuple[Conditions, int]]:
        """The request as row conditions only, with the rows each part gets out of ``n``: itself when there is
        no mix, else one part per mix value (that value fixed), its share by ``Mix.counts``."""
        if self.mix is None:
            return [(self, n)]
        return [(self.with_fixed(self.mix.column, value), count) for value, count in self.mix.counts(n)]

    def value_of(self, column: str) -> Any:
        """The one value the row conditions leave ``column`` (``=``, or a range whose ends meet and include it),
        else None."""
        low, high = bounds(self, column)
        closed = low is not None and high is not None and low[1] and high[1]
        return low[0] if closed and low[0] == high[0] else None

    def met(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of a typed table meet every row condition (a mix is not a row condition)."""
        ok = np.ones(len(frame), dtype=bool)
        for condition in self.where:
            ok &= _meets(frame[condition.column], condition)
        return ok


def show(value: Any) -> str:
    """A value as people read it: whole numbers without ".0", dates without a midnight time."""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat(sep=" ")
    return f"{value:,}" if isinstance(value, float) and abs(value) >= 10_000 else str(value)


def _meets(values: pd.Series, condition: Condition) -> np.ndarray:
    target = condition.value
    if isinstance(target, str):
        text = values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))
        return (text == target).to_numpy(dtype=bool)
    if isinstance(target, pd.Timestamp):
        x = pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    elif isinstance(target, bool | np.bool_):
        return (values.astype("boolean") == bool(target)).fillna(False).to_numpy(dtype=bool)
    else:
        x = pd.to_numeric(values, errors="coerce").astype(float)
    compare = {"=": x.__eq__, ">": x.__gt__, ">=": x.__ge__, "<": x.__lt__, "<=": x.__le__}[condition.op]
    return compare(target).fillna(False).to_numpy(dtype=bool)


# ----- reading requests ---------------------------------------------------------------------------------
def conditionable(spec: ColumnSpec) -> bool:
    """Whether rows can be asked to have certain values in this column (only learned columns can)."""
    return spec.is_modelled and spec.kind in MODELLED_KINDS


def column_for(schema: TableSchema, name: str) -> ColumnSpec:
    """The column called ``name`` (exact, else ignoring case), or a plain error naming the columns that can be used."""
    names = {c.name: c for c in schema.columns}
    spec = names.get(name) or next((c for c in schema.columns if c.name.lower() == name.strip().lower()), None)
    usable = [c.name for c in schema.columns if conditionable(c)]
    if spec is None:
        raise ConditionError(f"There is no column called '{name}'. Columns you can set: {', '.join(usable)}.")
    if not conditionable(spec):
        why = ("is left out of the synthetic table" if spec.handling is Handling.DROP else
               "gets new made-up values" if spec.handling is not Handling.SYNTHESIZE else
               "holds free text, which the generators do not learn value by value")
        raise ConditionError(f"Column '{spec.name}' {why}, so rows cannot be asked to have a value there. "
                             f"Columns you can set: {', '.join(usable)}.")
    return spec


def _number(raw: str, spec: ColumnSpec) -> float:
    """A number written in the column's own style (separators, currency sign, unit), else plainly: a point for
    decimals, with or without "," for thousands (25.5 in a column of 1.234,5 is 25.5, not 255)."""
    text = raw.replace("_", "")
    plain = [dataclasses.replace(spec.format, decimal_sep=".", thousands_sep=sep) for sep in (",", "")]
    for style in [spec.format, *plain]:
        if written_in(text, style):
            number = float(parse_numbers(pd.Series([text]), style).iloc[0])
            if math.isfinite(number):
                return number
    raise ValueError(raw)


def _date(raw: str, spec: ColumnSpec) -> pd.Timestamp:
    """A date in the column's own pattern (01/02/2024 in a day-first column is 1 February), else any date
    pandas reads (e.g. an ISO date such as 2024-03-05 in --where, whatever the column writes)."""
    if spec.format.datetime_format:
        stamp = parse_datetimes(pd.Series([raw], dtype=object), spec.format).iloc[0]
        if not pd.isna(stamp):
            return stamp
    stamp = pd.Timestamp(raw)
    return stamp.tz_localize(None) if stamp.tzinfo else stamp


def typed_value(spec: ColumnSpec, text: Any) -> Any:
    """``text`` read as a value of this column: a number, a date, yes/no (True/False) or a category's text."""
    raw = str(text).strip()
    try:
        if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER):
            return _number(raw, spec)
        if spec.kind is Kind.DATETIME:
            return _date(raw, spec)
    except (ValueError, TypeError) as exc:
        what = "a date such as 2024-01-31" if spec.kind is Kind.DATETIME else "a number"
        raise ConditionError(f"'{raw}' is not {what}, which column '{spec.name}' holds.") from exc
    if spec.kind is Kind.YES_NO:
        lower = raw.lower()
        if lower in _TRUE or lower == spec.format.true_label.lower() and lower:
            return True
        if lower in _FALSE or lower == spec.format.false_label.lower() and lower:
            return False
        labels = " or ".join(filter(None, [spec.format.true_label, spec.format.false_label])) or "yes or no"
        raise ConditionError(f"Column '{spec.name}' is yes/no: write {labels}, not '{raw}'.")
    return raw


def parse_where(text: str, schema: TableSchema) -> Condition:
    """One row condition from text such as ``churn=Yes``, ``amount>10000`` or ``signup>=2024-01-01``."""
    match = _WHERE.match(text or "")
    if not match or not match.group(3):
        raise ConditionError(f"Cannot read the condition '{text}': write it as COLUMN=VALUE, or with >, >=, < or <= "
                             "for numbers and dates (e.g. churn=Yes, amount>10000).")
    spec = column_for(schema, match.group(1))
    op = match.group(2)
    if op != "=" and spec.kind not in NUMERIC_KINDS:
        raise ConditionError(f"'{spec.name}' holds categories, so it takes = (e.g. {spec.name}=value), not {op}.")
    value = typed_value(spec, match.group(3))
    if op == "=" and spec.kind is Kind.WHOLE_NUMBER and not float(value).is_integer():
        raise ConditionError(f"'{spec.name}' holds whole numbers, so it is never exactly {show(value)}.")
    return Condition(spec.name, op, value)


def parse_balance(text: str, schema: TableSchema, values: list[Any] | None = None) -> Mix:
    """A target mix from ``COL=a:0.5,b:0.5`` (shares or percentages), or ``COL`` for equal shares of ``values``.

    Args:
        text: the request.
        schema: the columns.
        values: the column's values a generator can write, for ``COL`` alone (equal shares of each).
    """
    column, _, spec_text = (text or "").partition("=")
    spec = mix_column(schema, column)
    if not spec_text.strip():
        if not values:
            raise ConditionError(f"Give the shares for '{spec.name}', e.g. {spec.name}=a:0.5,b:0.5.")
        return Mix(spec.name, tuple((typed_value(spec, v), 1 / len(values)) for v in values))
    pairs = []
    for part in spec_text.split(","):
        value, sep, share = part.rpartition(":")
        if not sep or not value.strip():
            raise ConditionError(f"Cannot read '{part.strip()}' in the mix for '{spec.name}': write value:share, "
                                 f"e.g. {spec.name}=Yes:0.5,No:0.5.")
        pairs.append((typed_value(spec, value), _share(share, spec.name)))
    return normalised_mix(spec.name, pairs)


def mix_column(schema: TableSchema, name: str) -> ColumnSpec:
    """The column a mix is asked for, refused when it holds numbers or dates."""
    spec = column_for(schema, name.strip())
    if spec.kind in NUMERIC_KINDS and spec.kind is not Kind.WHOLE_NUMBER:
        raise ConditionError(f"'{spec.name}' holds numbers or dates; a mix is set on a column of categories "
                             "(use --where for a range).")
    return spec


def _share(text: str, column: str) -> float:
    raw = text.strip()
    try:
        share = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError as exc:
        raise ConditionError(f"'{raw}' is not a share in the mix for '{column}': use 0.5 or 50%.") from exc
    if share < 0 or not math.isfinite(share):
        raise ConditionError(f"Shares in the mix for '{column}' must be numbers of 0 or more, like 0.5 or 50%.")
    return share


def normalised_mix(column: str, pairs: list[tuple[Any, float]]) -> Mix:
    """A mix from (value, weight) pairs: weights scaled to add up to 1; values with no weight left out."""
    if len({p[0] for p in pairs}) != len(pairs):
        raise ConditionError(f"A value is listed twice in the mix for '{column}'.")
    total = sum(share for _, share in pairs)
    if total <= 0:
        raise ConditionError(f"The mix for '{column}' gives every value a share of 0.")
    return Mix(column, tuple((value, share / total) for value, share in pairs if share > 0))


def check_request(conditions: Conditions) -> None:
    """Refuse requests that contradict themselves (two values for one column, an empty range, a mixed fixed column)."""
    fixed: dict[str, Any] = {}
    for c in conditions.where:
        if c.fixed and c.column in fixed and fixed[c.column] != c.value:
            raise ConditionError(f"'{c.column}' is asked to be both {show(fixed[c.column])} and {show(c.value)}.")
        if c.fixed:
            fixed[c.column] = c.value
    mix = conditions.mix
    if mix is not None and mix.column in fixed:
        raise ConditionError(f"'{mix.column}' is fixed to {show(fixed[mix.column])}, so it cannot also be mixed.")
    for column in {c.column for c in conditions.where if not c.fixed}:
        low, high = bounds(conditions, column)
        if low is not None and high is not None and (low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1]))):
            raise ConditionError(f"No value of '{column}' can meet {' and '.join(c.words() for c in conditions.where if c.column == column)}.")


def bounds(conditions: Conditions, column: str) -> tuple[tuple[Any, bool] | None, tuple[Any, bool] | None]:
    """The tightest (value, inclusive) lower and upper bounds the row conditions put on ``column``."""
    low = high = None
    for c in conditions.where:
        if c.column != column:
            continue
        if c.op in (">", ">=", "="):
            candidate = (c.value, c.op != ">")
            if low is None or candidate[0] > low[0] or (candidate[0] == low[0] and not candidate[1]):
                low = candidate
        if c.op in ("<", "<=", "="):
            candidate = (c.value, c.op != "<")
            if high is None or candidate[0] < high[0] or (candidate[0] == high[0] and not candidate[1]):
                high = candidate
    return low, high
