"""Column statistics that keep no exact real value: clipped, averaged quantiles, pooled rare values, private counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from tabular.parsing import plural
from tabular.privacy import POOLED_LABEL, PREPROCESS_SHARE, PrivacyLedger, PrivacySettings
from tabular.schema import Kind, TableSchema

DP_BINS = 200  # equal-width bins of a number's coarsened range under differential privacy
DISCRETE_MAX_DISTINCT = 20  # whole numbers with this few distinct values are categories to the encoder


@dataclass
class ColumnGuard:
    """What a codec needs to fit one column privately: the settings, and under DP the noise and generator."""

    settings: PrivacySettings
    noise_sd: float = 0.0  # standard deviation of the Gaussian noise on each count (0: no DP)
    rng: np.random.Generator | None = None
    tail: float = 4.0  # under DP a value is released only when its noisy count clears 1 + tail x noise_sd

    @property
    def private(self) -> bool:
        return self.noise_sd > 0

    @property
    def min_count(self) -> int:
        """Rows a value must be seen in to be kept as itself (under DP: what clears the noise)."""
        k = self.settings.min_count if self.settings.protect else 1
        return max(k, math.ceil(1 + self.tail * self.noise_sd)) if self.private else k

    def noisy(self, counts: np.ndarray) -> np.ndarray:
        """Counts plus Gaussian noise, clamped at zero (the counts themselves under no DP)."""
        if not self.private:
            return counts.astype(np.float64)
        return np.maximum(counts + self.rng.normal(0.0, self.noise_sd, size=counts.shape), 0.0)


def guards_for(columns: int, settings: PrivacySettings | None, ledger: PrivacyLedger | None,
               rng: np.random.Generator | None) -> ColumnGuard | None:
    """The guard shared by all columns; under DP it spends ``PREPROCESS_SHARE`` of epsilon on every count.

    Each row adds one to one count of every column (its value, or "missing"), so the counts of all
    ``columns`` columns together have L2 sensitivity sqrt(columns): one Gaussian release. A category is
    released only above a threshold that a category of one row clears with probability at most
    ``privacy.RELEASE_DELTA_SHARE`` x delta over all its columns together (``ledger.release_delta``).
    """
    if settings is None or not (settings.protect or settings.private):
        return None
    if not settings.private or ledger is None:
        return ColumnGuard(settings)
    multiplier = ledger.noise_for(PREPROCESS_SHARE * settings.epsilon)
    ledger.add(multiplier)
    tail = float(ndtri(1 - ledger.release_delta / max(columns, 1)))
    return ColumnGuard(settings, multiplier * math.sqrt(max(columns, 1)), rng or np.random.default_rng(), tail)


def averaged_quantiles(present: np.ndarray, guard: ColumnGuard, points: int) -> np.ndarray:
    """A quantile function through means of groups of at least k sorted values, after clipping the ends.

    Clipping pulls the ``clip_share`` most extreme rows at each end in to the clip points; averaging
    groups of ``k`` or more neighbouring values means no single row's value is stored as it is.
    """
    x = np.sort(present)
    if x.size < guard.settings.min_count:  # too few values to average: keep only the coarsened range
        return np.linspace(*coarse_range(float(x.min()), float(x.max())), 3) if x.size else np.zeros(2)
    share = guard.settings.clip_share
    if share > 0 and x.size > 2:
        x = np.clip(x, *np.quantile(x, [share, 1 - share]))
    size = max(guard.settings.min_count, math.ceil(x.size / max(points - 1, 1)))
    groups = max(x.size // size, 1)
    bounds = np.linspace(0, x.size, groups + 1).round().astype(int)
    means = np.add.reduceat(x, bounds[:-1]) / np.diff(bounds)
    centres = (bounds[:-1] + bounds[1:]) / 2 / x.size
    grid = np.linspace(0, 1, min(points, max(groups, 2)))
    return np.interp(grid, centres, means)


def coarse_range(lo: float, hi: float) -> tuple[float, float]:
    """The range rounded outward to a power of ten of its width (e.g. 18..90 to 10..90; 1,200..250,000 to 0..300,000)."""
    width = hi - lo
    if not np.isfinite(width) or width <= 0:  # one value: the decade around it, which does not centre on it
        if not lo:
            return -1.0, 1.0
        unit = 10.0 ** (math.floor(math.log10(abs(lo))) + 1)
        return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit
    unit = 10.0 ** math.floor(math.log10(width))
    return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit


def private_quantiles(present: np.ndarray, missing: int, guard: ColumnGuard, points: int
                      ) -> tuple[np.ndarray, float]:
    """Under DP: a quantile function from a noisy histogram over the coarsened range, and the missing share."""
    lo, hi = coarse_range(float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
    edges = np.linspace(lo, hi, DP_BINS + 1)
    counts = guard.noisy(np.append(np.histogram(present, edges)[0], missing))
    body = counts[:-1] + 1e-3  # an empty histogram still gives a spread-out quantile function
    cdf = np.concatenate([[0.0], np.cumsum(body) / body.sum()])
    grid = np.linspace(0, 1, points)
    quantiles = np.interp(grid, cdf, edges)
    return quantiles, float(counts[-1] / max(counts.sum(), 1e-9))


def _column_effect(values: pd.Series, kind: Kind, settings: PrivacySettings) -> tuple[str, int] | None:
    """(what changes, rows affected) for one learned column, or None when nothing does."""
    k = settings.min_count
    numeric = kind in (Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.DATETIME)
    if numeric and values.nunique() > DISCRETE_MAX_DISTINCT:  # the codec's own rule (EncoderOptions)
        x = values.astype("int64") if kind is Kind.DATETIME else values.astype(float)
        lo, hi = np.quantile(x, [settings.clip_share, 1 - settings.clip_share])
        pulled = int(((x < lo) | (x > hi)).sum())
        return ("extreme values pulled in; only averages stored", pulled
                ) if pulled else None
    if kind in (Kind.YES_NO, Kind.CONSTANT, Kind.NUMBER, Kind.DATETIME):
        return None
    counts = values.astype(str).value_counts()
    rare = counts[counts < k]
    if not len(rare):
        return None
    where = "join the nearest common value" if numeric else f'become "{POOLED_LABEL}"'
    return f"{plural(len(rare), 'rare value')} {where}", int(rare.sum())


def effects(frame: pd.DataFrame, schema: TableSchema, settings: PrivacySettings) -> list[dict]:
    """What the protections change in this table: one record per affected column (column, change, rows)."""
    if not settings.protect:
        return []
    out = []
    for spec in schema.modelled():
        found = _column_effect(frame[spec.name].dropna(), spec.kind, settings)
        if found is not None:
            out.append({"Column": spec.name, "What changes": found[0], "Rows affected": found[1]})
    return out
