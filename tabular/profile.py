"""Per-column summaries for the profile table: missing share, distinct values, examples, distribution."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tabular.parsing import format_number
from tabular.schema import ColumnSpec, Kind

CHART_SAMPLE = 100_000  # rows used for distribution charts; counts use every row
TOP_CATEGORIES = 8  # bars shown for a category column before pooling into "Other"
BINS = 20


@dataclass
class ColumnProfile:
    """What the profile table shows for one column."""

    name: str
    kind: Kind
    missing_share: float
    distinct: int
    examples: list[str]
    bar_labels: list[str] = field(default_factory=list)  # distribution: bar labels ...
    bar_counts: list[int] = field(default_factory=list)  # ... and their counts
    chart_title: str = ""  # what the distribution shows, e.g. "Length of the text"


def profile_column(typed: pd.Series, spec: ColumnSpec) -> ColumnProfile:
    """Summarise one converted column for the user."""
    present = typed.dropna()
    if len(present) > CHART_SAMPLE:
        present = present.sample(CHART_SAMPLE, random_state=0)
    labels, counts, title = _distribution(present, spec)
    return ColumnProfile(
        name=spec.name,
        kind=spec.kind,
        missing_share=spec.missing_share,
        distinct=spec.distinct,
        examples=_examples(present, spec),
        bar_labels=labels,
        bar_counts=counts,
        chart_title=title,
    )


def _examples(present: pd.Series, spec: ColumnSpec, k: int = 3) -> list[str]:
    if present.empty:
        return []
    values = present.drop_duplicates().head(k)
    return [format_value(v, spec) for v in values]


def format_value(value, spec: ColumnSpec) -> str:
    """Write one value the way the file wrote it (dates in their format, yes/no in their words)."""
    if spec.kind is Kind.DATETIME and isinstance(value, pd.Timestamp):
        return value.strftime(spec.format.datetime_format or "%Y-%m-%d")
    if spec.kind is Kind.YES_NO and isinstance(value, (bool, np.bool_)):
        return spec.format.true_label if value else spec.format.false_label
    if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER) and isinstance(value, (int, float, np.number)):
        return format_number(float(value), spec.format)
    return " ".join(str(value).split())  # one line, even for text with line breaks


def _distribution(present: pd.Series, spec: ColumnSpec) -> tuple[list[str], list[int], str]:
    if present.empty:
        return [], [], "No values"
    kind = spec.kind
    if kind in (Kind.NUMBER, Kind.WHOLE_NUMBER) and spec.distinct > TOP_CATEGORIES:
        return _histogram(present.astype(float).to_numpy(), spec) + ("Spread of values",)
    if kind is Kind.DATETIME:
        return _date_histogram(present) + ("Values over time",)
    if kind in (Kind.CATEGORY, Kind.YES_NO, Kind.CONSTANT, Kind.NUMBER, Kind.WHOLE_NUMBER):
        return _top_values(present, spec) + ("Most common values",)
    lengths = present.astype(str).str.len().to_numpy(dtype=float)
    labels, counts = _histogram(lengths, None)
    return labels, counts, "Length of the values (characters)"


def _histogram(values: np.ndarray, spec: ColumnSpec | None) -> tuple[list[str], list[int]]:
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo == hi:
        return [_short(lo)], [len(values)]
    whole = spec is None or spec.kind is Kind.WHOLE_NUMBER
    bins = min(BINS, int(hi - lo) + 1) if whole else BINS
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    labels = [f"{_short(a)} – {_short(b)}" for a, b in zip(edges[:-1], edges[1:])]
    return labels, counts.astype(int).tolist()


def _date_histogram(present: pd.Series) -> tuple[list[str], list[int]]:
    span = present.max() - present.min()
    freq = "D" if span <= pd.Timedelta(days=62) else "MS" if span <= pd.Timedelta(days=365 * 5) else "YS"
    counts = present.dt.to_period({"D": "D", "MS": "M", "YS": "Y"}[freq]).value_counts().sort_index()
    return [str(p) for p in counts.index], counts.astype(int).tolist()


def _top_values(present: pd.Series, spec: ColumnSpec) -> tuple[list[str], list[int]]:
    counts = present.value_counts()
    top = counts.head(TOP_CATEGORIES)
    labels = [format_value(v, spec) for v in top.index]
    values = top.astype(int).tolist()
    rest = int(counts.iloc[TOP_CATEGORIES:].sum())
    if rest:
        labels.append(f"Other ({len(counts) - TOP_CATEGORIES:,})")
        values.append(rest)
    return labels, values


def _short(x: float) -> str:
    """A compact number for axis labels: 1.2k, 3.4M, 0.05."""
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if ax >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"
