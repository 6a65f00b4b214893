"""Numeric views of typed tables for classifiers and distances, fitted on the real rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.sdmetrics_bridge import scored_columns
from tabular.schema import NUMERIC_KINDS, Kind, TableSchema

MAX_LEVELS = 250  # categories kept per column for trees (the rest pooled), under sklearn's 255 limit
OTHER = "__other__"


def sample_rows(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most ``n`` rows, drawn at random with a seed (the frame itself when it is small enough)."""
    return frame.sample(n, random_state=seed) if len(frame) > n else frame


def as_numbers(values: pd.Series, kind: Kind) -> np.ndarray:
    """Numbers, or dates as days since 1970, as float64 with NaN for missing."""
    if kind is Kind.DATETIME:
        stamps = pd.to_datetime(values, errors="coerce")
        days = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        return np.asarray(days, dtype="float64")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def as_labels(values: pd.Series) -> pd.Series:
    """Categories and yes/no as text, missing as its own label."""
    return values.astype(object).where(values.notna(), "__missing__").astype(str)


class FeatureMap:
    """Turns the scored columns of a table into features, with scales and levels taken from real rows."""

    def __init__(self, schema: TableSchema, columns: list[str] | None = None) -> None:
        self.schema = schema
        self.columns = columns if columns is not None else scored_columns(schema)

    def fit(self, real: pd.DataFrame) -> FeatureMap:
        self.levels_: dict[str, list[str]] = {}
        self.scale_: dict[str, tuple[float, float, float]] = {}  # low, range, fill for missing
        for name in self.columns:
            kind = self.schema.column(name).kind
            if kind in NUMERIC_KINDS:
                x = as_numbers(real[name], kind)
                present = x[~np.isnan(x)]
                low, high = (present.min(), present.max()) if present.size else (0.0, 0.0)
                fill = float(np.median(present)) if present.size else 0.0
                self.scale_[name] = (float(low), float(high - low) or 1.0, fill)
            else:
                counts = as_labels(real[name]).value_counts()
                self.levels_[name] = list(counts.index[:MAX_LEVELS])
        return self

    def for_trees(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Floats for numbers and dates; pandas categoricals (fixed levels) for the rest."""
        out = {}
        for name in self.columns:
            if name in self.scale_:
                out[name] = as_numbers(frame[name], self.schema.column(name).kind)
            else:
                levels = self.levels_[name]
                labels = as_labels(frame[name])
                labels = labels.where(labels.isin(levels), OTHER)
                out[name] = pd.Categorical(labels, categories=levels + [OTHER])
        return pd.DataFrame(out, index=frame.index)

    def distance_parts(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(numbers, one-hot categories) as float32; their distance is a Gower-style one times the column count.

        Numbers count |a - b| / range, and a value missing on one side only about 1 more through a
        missing flag; categories count 1 when they differ: the number of categories minus the dot product
        of the one-hot rows, a matrix product (see ``evaluation.privacy.nearest_two``).
        """
        numbers, onehot = [], []
        for name in self.columns:
            if name in self.scale_:
                low, span, fill = self.scale_[name]
                x = as_numbers(frame[name], self.schema.column(name).kind)
                missing = np.isnan(x)
                numbers += [((np.where(missing, fill, x) - low) / span)[:, None], missing[:, None]]
            else:
                levels = self.levels_[name] + [OTHER]
                labels = as_labels(frame[name])
                codes = pd.Categorical(labels.where(labels.isin(levels), OTHER), categories=levels).codes
                onehot.append(np.eye(len(levels), dtype="float32")[codes])
        stack = [np.hstack(part).astype("float32") if part else np.zeros((len(frame), 0), "float32")
                 for part in (numbers, onehot)]
        return stack[0], stack[1]
