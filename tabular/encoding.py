"""The one reversible encoding every generator reads: numbers to normal scores, categories to one-hot.

Each modelled column gets a codec. Its output is described by small ``Span`` records (which slice of the
encoded row is which column, and how the model should activate it), so models never re-detect kinds.
Decoding guarantees valid values: known categories only, whole numbers whole, decimals at their
precision, numbers and dates inside the observed range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtr, ndtri

from tabular.privacy import POOLED_LABEL, PrivacyLedger, PrivacySettings
from tabular.protection import (
    DISCRETE_MAX_DISTINCT,
    ColumnGuard,
    averaged_quantiles,
    coarse_range,
    guards_for,
    private_quantiles,
)
from tabular.schema import ColumnSpec, Kind, TableSchema

N_QUANTILES = 1000  # points of the stored quantile function of a continuous column
EPS = 1e-6


@dataclass(frozen=True)
class Span:
    """A slice of the encoded row: ``width`` values from ``start``, activated as ``activation``."""

    column: str
    role: str  # "value" or "missing"
    start: int
    width: int
    activation: str  # "linear" (a normal score) or "softmax" (one-hot over choices)

    @property
    def stop(self) -> int:
        return self.start + self.width


@dataclass
class EncoderOptions:
    """How columns are encoded."""

    max_categories: int = 50  # one-hot width cap; rarer categories share an "other" slot
    rare_share: float = 0.002  # categories rarer than this share the "other" slot
    discrete_max_distinct: int = DISCRETE_MAX_DISTINCT  # whole numbers with this few distinct values are one-hot


def _to_float(values: pd.Series, spec: ColumnSpec) -> np.ndarray:
    if spec.kind is Kind.DATETIME:
        stamps = pd.to_datetime(values).astype("datetime64[ns]")
        out = stamps.astype("int64").to_numpy().astype(np.float64) / 1e9
        out[stamps.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


class ContinuousCodec:
    """A number or date as one normal score, through its empirical quantile function."""

    discrete = False

    def __init__(self, spec: ColumnSpec) -> None:
        self.spec = spec
        self.quantiles = np.zeros(2)
        self.has_missing = False
        self.step = 0.0  # rounding unit of decoded values (dates: 86400 for whole days)
        self.missing_share = 0.0

    def fit(self, values: pd.Series, guard: ColumnGuard | None = None) -> ContinuousCodec:
        """Learn the quantile function; with ``guard``, clipped and averaged (or from private counts)."""
        x = _to_float(values, self.spec)
        present = x[~np.isnan(x)]
        self.has_missing = bool(np.isnan(x).any())
        self.missing_share = float(np.isnan(x).mean())
        points = min(N_QUANTILES, max(present.size, 2))
        if guard is not None and guard.private:
            self.quantiles, self.missing_share = private_quantiles(present, x.size - present.size, guard,
                                                                   N_QUANTILES)
            self.has_missing = self.missing_share * x.size >= guard.min_count
        elif guard is not None and guard.settings.protect and present.size:
            self.quantiles = averaged_quantiles(present, guard, points)
        else:
            present = present if present.size else np.zeros(1)
            self.quantiles = np.quantile(present, np.linspace(0, 1, points))
        if self.spec.kind is Kind.DATETIME:  # the coarsest unit the dates are written in: day, hour, minute, second
            self.step = next((s for s in (86400.0, 3600.0, 60.0) if np.all(np.mod(present, s) == 0)), 1.0)
        return self

    def to_uniform(self, values: pd.Series, rng: np.random.Generator | None = None) -> np.ndarray:
        """Each value's position in the column's distribution, in (0, 1) (NaN where missing).

        A value shared by many rows spans a range of positions: its middle without ``rng``, or a random
        point of the range with it, so that the positions of a column with ties are spread evenly.
        """
        lo, hi = self.positions(values)
        share = 0.5 if rng is None else rng.uniform(size=lo.size)
        return np.clip(lo + (hi - lo) * share, EPS, 1 - EPS)

    def positions(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The range of positions in (0, 1) each value spans (its ties); both NaN where missing."""
        x = _to_float(values, self.spec)
        probs = np.linspace(0, 1, self.quantiles.size)
        lo = np.interp(x, self.quantiles, probs, left=0.0, right=1.0)
        hi = 1.0 - np.interp(-x, -self.quantiles[::-1], probs, left=0.0, right=1.0)
        return lo, hi

    def from_uniform(self, u: np.ndarray) -> pd.Series:
        """Typed values at positions ``u`` of the distribution (NaN positions give the median)."""
        probs = np.linspace(0, 1, self.quantiles.size)
        return self._finish(np.interp(np.nan_to_num(u, nan=0.5), probs, self.quantiles))

    def to_normal(self, values: pd.Series, rng: np.random.Generator | None = None) -> np.ndarray:
        """Normal scores (NaN where missing); tied values at their mid-rank unless ``rng`` spreads them."""
        return ndtri(self.to_uniform(values, rng))

    def from_normal(self, z: np.ndarray) -> pd.Series:
        return self.from_uniform(ndtr(np.nan_to_num(z)))

    def _finish(self, x: np.ndarray) -> pd.Series:
        spec = self.spec
        x = np.clip(x, self.quantiles[0], self.quantiles[-1])
        if spec.kind is Kind.DATETIME:
            x = np.round(x / self.step) * self.step
            return pd.Series(pd.to_datetime(np.round(x * 1e9).astype("int64")), dtype="datetime64[ns]")
        if spec.kind is Kind.WHOLE_NUMBER:
            return pd.Series(np.round(x).astype("int64"), dtype="Int64")
        return pd.Series(np.round(x, spec.format.decimals), dtype="float64")

    def state(self) -> dict:
        return {"quantiles": torch.tensor(self.quantiles, dtype=torch.float64), "has_missing": self.has_missing,
                "step": self.step, "missing_share": self.missing_share}

    def describe(self, spec: ColumnSpec) -> None:
        """Put what this codec learned in ``spec``: the (clipped, averaged) range and the missing share."""
        low, high = self._finish(self.quantiles[[0, -1]])
        spec.minimum, spec.maximum = ((low.isoformat(), high.isoformat()) if spec.kind is Kind.DATETIME
                                      else (float(low), float(high)))
        spec.missing_share = round(self.missing_share, 2)

    def load(self, state: dict) -> ContinuousCodec:
        self.quantiles = state["quantiles"].numpy()
        self.has_missing, self.step = state["has_missing"], state["step"]
        self.missing_share = state["missing_share"]
        return self


class DiscreteCodec:
    """A category, yes/no or small whole number as one-hot over its frequent values.

    Rare values share an "other" slot and come back in proportion to how often they were seen; a
    missing value is a slot of its own.
    """

    discrete = True

    def __init__(self, spec: ColumnSpec, options: EncoderOptions) -> None:
        self.spec = spec
        self.options = options
        self.values: list[str] = []  # the one-hot slots, as text, most frequent first
        self.rare: list[str] = []  # values pooled in the "other" slot ...
        self.rare_probs = np.zeros(0)  # ... and how often each was seen
        self.slots: list[str] = []  # values + ["__other__"] + ["__missing__"] as present
        self.probs = np.zeros(0)  # share of each slot in the training data
        self.pooled: str | None = None  # with protections: the slot rare and unknown categories fall into
        self.numeric = False  # with protections: unknown values go to the nearest kept number, not "other"

    def fit(self, values: pd.Series, guard: ColumnGuard | None = None) -> DiscreteCodec:
        """Learn the slots; with ``guard``, values in fewer than k rows are pooled and never stored."""
        text = self._text(values)
        counts = text.value_counts(dropna=True)
        if guard is not None:
            return self._fit_guarded(text, counts, guard)
        shares = counts / max(len(text), 1)
        keep = counts.index[(shares >= self.options.rare_share)][: self.options.max_categories]
        keep = list(keep) if len(keep) else list(counts.index[:1])
        rare = counts.drop(keep)
        self.values = [str(v) for v in keep]
        self.rare = [str(v) for v in rare.index]
        self.rare_probs = (rare / rare.sum()).to_numpy() if len(rare) else np.zeros(0)
        self.slots = self.values + (["__other__"] if self.rare else []) + (
            ["__missing__"] if text.isna().any() else [])
        codes = self.codes(values)
        self.probs = np.bincount(codes, minlength=len(self.slots)) / max(len(codes), 1)
        return self

    def _fit_guarded(self, text: pd.Series, counts: pd.Series, guard: ColumnGuard) -> DiscreteCodec:
        """Slots from (noisy, under DP) counts; values in fewer than k rows are never stored.

        Such values become "Other" (a slot of its own) for categories, or the nearest kept number (the most
        common answer for yes/no). Values seen often enough but past the width cap share the "other" slot.
        """
        domain = self._public_domain(counts, guard)
        counts = counts.reindex(domain, fill_value=0) if domain is not None else counts
        noisy = pd.Series(guard.noisy(counts.to_numpy()), index=counts.index).sort_values(ascending=False)
        floor = 1 if domain is not None else guard.min_count
        eligible = noisy[noisy >= floor] if len(noisy) else noisy
        shares = eligible / max(noisy.sum(), 1e-9)
        keep = list(eligible.index[shares >= self.options.rare_share][: self.options.max_categories])
        capped = eligible.drop(keep)
        self.numeric = self.spec.kind in (Kind.WHOLE_NUMBER, Kind.NUMBER, Kind.YES_NO)
        self.values = [str(v) for v in keep]
        pooled = float(noisy.drop(eligible.index).sum())
        if self.numeric and not self.values:  # nothing common enough: the middle of the coarse range
            present = pd.to_numeric(text, errors="coerce").dropna()
            middle = sum(coarse_range(float(present.min()), float(present.max()))) / 2 if len(present) else 0
            self.values = ["False"] if self.spec.kind is Kind.YES_NO else [str(int(round(middle)))]
        elif not self.numeric and (pooled > 0 or not self.values) and POOLED_LABEL not in self.values:
            self.values.append(POOLED_LABEL)
        self.pooled = None if self.numeric else POOLED_LABEL
        self.rare = [str(v) for v in capped.index]
        self.rare_probs = (capped / capped.sum()).to_numpy() if len(capped) else np.zeros(0)
        missing = float(guard.noisy(np.array([text.isna().sum()]))[0])
        self.slots = self.values + (["__other__"] if self.rare else []) + (
            ["__missing__"] if missing >= max(floor, 1e-9) else [])
        self.probs = self._guarded_probs(text, noisy, keep, capped, pooled, missing, guard)
        return self

    def _guarded_probs(self, text, noisy, keep, capped, pooled, missing, guard) -> np.ndarray:
        """Slot shares: exact as the rows fall into the slots, or from the noisy counts under DP."""
        if not guard.private:
            codes = self.codes(text)
            return np.bincount(codes, minlength=len(self.slots)) / max(len(codes), 1)
        weights = dict(zip(self.values, [float(noisy.get(v, 0.0)) for v in self.values]))
        if self.pooled in weights:
            weights[self.pooled] += pooled
        out = [weights[v] for v in self.values] + ([float(capped.sum())] if self.rare else [])
        out += [missing] if "__missing__" in self.slots else []
        total = sum(out)
        return np.asarray(out) / total if total > 0 else np.full(len(out), 1 / len(out))

    def _public_domain(self, counts: pd.Series, guard: ColumnGuard) -> list[str] | None:
        """Values anyone could list without seeing the data: yes/no, or under DP whole numbers in a coarse range."""
        if self.spec.kind is Kind.YES_NO:
            return ["True", "False"]
        if guard.private and self.spec.kind is Kind.WHOLE_NUMBER and len(counts):
            numbers = pd.to_numeric(counts.index.to_series(), errors="coerce")
            lo, hi = coarse_range(float(numbers.min()), float(numbers.max()))
            return [str(v) for v in range(int(lo), int(hi) + 1)]
        return None

    @staticmethod
    def _text(values: pd.Series) -> pd.Series:
        return values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))

    def codes(self, values: pd.Series) -> np.ndarray:
        """Slot index of every value."""
        text = self._text(values)
        lookup = {v: i for i, v in enumerate(self.values)}
        other = self.slots.index("__other__") if "__other__" in self.slots else 0
        missing = self.slots.index("__missing__") if "__missing__" in self.slots else other
        codes = text.map(lookup)
        if self.numeric and codes.isna().any():
            codes = codes.fillna(self._nearest(text[codes.isna() & text.notna()]))
        elif self.pooled in lookup:  # with protections: unknown or rare values are "Other" (capped ones: other)
            capped, pooled = set(self.rare), lookup[self.pooled]
            codes = codes.fillna(text.map(lambda v: other if v in capped else pooled))
        codes = codes.where(text.notna(), missing).fillna(other)
        return codes.to_numpy(dtype=np.int64)

    def _nearest(self, text: pd.Series) -> pd.Series:
        """Slot of the kept number closest to each value (yes/no: the most common answer)."""
        if self.spec.kind is Kind.YES_NO:
            return pd.Series(0, index=text.index)
        kept = pd.to_numeric(pd.Series(self.values), errors="coerce").to_numpy(dtype=float)
        x = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        return pd.Series(np.abs(x[:, None] - kept[None, :]).argmin(axis=1), index=text.index)

    def to_normal(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """A normal score inside the slot's slice of [0, 1] (slots ordered by frequency)."""
        codes = self.codes(values)
        upper = np.cumsum(self.probs)
        lower = upper - self.probs
        u = lower[codes] + self.probs[codes] * rng.uniform(0.05, 0.95, codes.size)
        return ndtri(np.clip(u, EPS, 1 - EPS))

    def from_normal(self, z: np.ndarray, rng: np.random.Generator) -> pd.Series:
        return self.decode_codes(self.normal_slots(z), rng)

    def normal_edges(self) -> np.ndarray:
        """Where each slot's slice of the normal line starts and ends (slots ordered by frequency)."""
        return ndtri(np.clip(np.concatenate([[0.0], np.cumsum(self.probs)]), EPS, 1 - EPS))

    def normal_slots(self, z: np.ndarray) -> np.ndarray:
        """The slot whose slice holds each normal score."""
        upper = np.cumsum(self.probs)
        return np.minimum(np.searchsorted(upper, ndtr(z), side="right"), len(self.slots) - 1)

    def decode_codes(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Values for slot indices; "other" draws a rare value by its frequency."""
        slots = np.array(self.slots, dtype=object)
        out = slots[codes]
        if self.rare:
            is_other = out == "__other__"
            out[is_other] = rng.choice(np.array(self.rare, dtype=object), size=int(is_other.sum()),
                                       p=self.rare_probs)
        out[out == "__missing__"] = None
        return self.typed(pd.Series(out, dtype=object))

    def typed(self, text: pd.Series) -> pd.Series:
        """Stored texts (the slots' values) as the column's typed values."""
        kind = self.spec.kind
        if kind is Kind.YES_NO:
            return text.map({"True": True, "False": False}).astype("boolean")
        if kind is Kind.WHOLE_NUMBER:
            return pd.to_numeric(text).round().astype("Int64")
        if kind is Kind.NUMBER:
            return pd.to_numeric(text).astype("float64")
        if kind is Kind.DATETIME:
            return pd.to_datetime(text).astype("datetime64[ns]")
        return text.astype(pd.StringDtype("pyarrow"))

    def state(self) -> dict:
        return {"values": self.values, "rare": self.rare, "slots": self.slots, "pooled": self.pooled,
                "numeric": self.numeric,
                "rare_probs": torch.tensor(self.rare_probs, dtype=torch.float64),
                "probs": torch.tensor(self.probs, dtype=torch.float64)}

    def describe(self, spec: ColumnSpec) -> None:
        """Put what this codec learned in ``spec``: the categories it can draw and the missing share."""
        spec.categories = list(self.values) + list(self.rare)
        missing = self.slots.index("__missing__") if "__missing__" in self.slots else None
        spec.missing_share = round(float(self.probs[missing]), 2) if missing is not None else 0.0

    def load(self, state: dict) -> DiscreteCodec:
        self.values, self.rare, self.slots = list(state["values"]), list(state["rare"]), list(state["slots"])
        self.rare_probs, self.probs = state["rare_probs"].numpy(), state["probs"].numpy()
        self.pooled, self.numeric = state.get("pooled"), bool(state.get("numeric", False))
        return self


class TableEncoder:
    """Fit on the modelled columns of a typed table; encode to a float matrix and back."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        self.options = options or EncoderOptions()
        self.codecs_: dict[str, ContinuousCodec | DiscreteCodec] = {}
        self.spans_: list[Span] = []

    def _codec(self, spec: ColumnSpec, values: pd.Series, guard: ColumnGuard | None):
        few = spec.kind is Kind.WHOLE_NUMBER and values.nunique() <= self.options.discrete_max_distinct
        if few and guard is not None and guard.private and values.notna().any():  # on the coarse range
            lo, hi = coarse_range(float(values.min()), float(values.max()))
            few = hi - lo <= self.options.discrete_max_distinct
        if spec.kind in (Kind.NUMBER, Kind.DATETIME) or (spec.kind is Kind.WHOLE_NUMBER and not few):
            return ContinuousCodec(spec)
        return DiscreteCodec(spec, self.options)

    def fit(self, frame: pd.DataFrame, schema: TableSchema, privacy: PrivacySettings | None = None,
            ledger: PrivacyLedger | None = None, rng: np.random.Generator | None = None) -> TableEncoder:
        """Learn each modelled column's codec.

        Args:
            frame: the typed table.
            schema: which columns are modelled, and their kinds.
            privacy: protections (rare values pooled, extremes clipped, coarse quantiles); None: none.
            ledger: under differential privacy, where the noisy statistics record their spending.
            rng: the fit's random generator (noise of private statistics).
        """
        self.codecs_ = {}
        specs = [s for s in schema.modelled() if s.kind is not Kind.CONSTANT]
        guard = guards_for(len(specs), privacy, ledger, rng)
        for spec in specs:
            values = frame[spec.name]
            self.codecs_[spec.name] = self._codec(spec, values, guard).fit(values, guard)
        self._layout()
        return self

    def _layout(self) -> None:
        spans, start = [], 0
        for name, codec in self.codecs_.items():
            if codec.discrete:
                spans.append(Span(name, "value", start, len(codec.slots), "softmax"))
                start += len(codec.slots)
                continue
            spans.append(Span(name, "value", start, 1, "linear"))
            start += 1
            if codec.has_missing:
                spans.append(Span(name, "missing", start, 2, "softmax"))
                start += 2
        self.spans_ = spans

    @property
    def output_dim(self) -> int:
        return self.spans_[-1].stop if self.spans_ else 0

    @property
    def columns(self) -> list[str]:
        return list(self.codecs_)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded matrix: normal scores and one-hot blocks, float32."""
        out = np.zeros((len(frame), self.output_dim), dtype=np.float32)
        rows = np.arange(len(frame))
        for span in self.spans_:
            codec = self.codecs_[span.column]
            values = frame[span.column]
            if codec.discrete:
                out[rows, span.start + codec.codes(values)] = 1.0
                continue
            z = codec.to_normal(values)
            if span.role == "value":
                out[:, span.start] = np.nan_to_num(z, nan=0.0)
            else:
                out[rows, span.start + np.isnan(z).astype(np.int64)] = 1.0
        return out

    def inverse_transform(self, matrix: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Typed columns from an encoded matrix (softmax blocks may be one-hot or probabilities)."""
        columns: dict[str, pd.Series] = {}
        for span in self.spans_:
            codec = self.codecs_[span.column]
            block = matrix[:, span.start: span.stop]
            if codec.discrete:
                columns[span.column] = codec.decode_codes(block.argmax(axis=1), rng)
            elif span.role == "value":
                columns[span.column] = codec.from_normal(block[:, 0].astype(np.float64))
            else:
                missing = block.argmax(axis=1) == 1
                columns[span.column] = columns[span.column].mask(missing)
        return pd.DataFrame(columns)

    def normal_scores(self, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """One normal score per codec (plus one per missing indicator), for copula-style models."""
        blocks = []
        for span in self.spans_:
            codec = self.codecs_[span.column]
            if codec.discrete:
                blocks.append(codec.to_normal(frame[span.column], rng))
            elif span.role == "value":
                z = codec.to_normal(frame[span.column])
                blocks.append(np.where(np.isnan(z), rng.standard_normal(z.size), z))
            else:
                missing = frame[span.column].isna().to_numpy()
                share = codec.missing_share
                u = np.where(missing, share * rng.uniform(0.05, 0.95, missing.size),
                             share + (1 - share) * rng.uniform(0.05, 0.95, missing.size))
                blocks.append(ndtri(np.clip(u, EPS, 1 - EPS)))
        return np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))

    def from_normal_scores(self, scores: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for j, span in enumerate(self.spans_):
            codec = self.codecs_[span.column]
            if codec.discrete:
                columns[span.column] = codec.from_normal(scores[:, j], rng)
            elif span.role == "value":
                columns[span.column] = codec.from_normal(scores[:, j])
            else:
                columns[span.column] = columns[span.column].mask(ndtr(scores[:, j]) < codec.missing_share)
        return pd.DataFrame(columns)

    def guarded_schema(self, schema: TableSchema) -> TableSchema:
        """The schema with no exact real value: categories as learned, ranges from the protected quantiles.

        Columns no generator learns (dropped, new IDs, fakes) keep no categories or range at all.
        """
        out = TableSchema.from_json(schema.to_json())
        for spec in out.columns:
            codec = self.codecs_.get(spec.name)
            if spec.kind is Kind.CONSTANT and spec.is_modelled:
                continue
            spec.categories = spec.minimum = spec.maximum = None
            spec.distinct, spec.invalid_count, spec.reason = 0, 0, ""  # exact counts stay with the project
            if codec is not None:
                codec.describe(spec)
        return out

    def state_dict(self) -> dict:
        return {"options": vars(self.options), "codecs": {n: c.state() for n, c in self.codecs_.items()}}

    def load_state_dict(self, state: dict, schema: TableSchema) -> TableEncoder:
        self.options = EncoderOptions(**state["options"])
        self.codecs_ = {}
        for name, codec_state in state["codecs"].items():
            spec = schema.column(name)
            codec = DiscreteCodec(spec, self.options) if "slots" in codec_state else ContinuousCodec(spec)
            self.codecs_[name] = codec.load(codec_state)
        self._layout()
        return self
