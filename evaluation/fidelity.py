"""A cheap fidelity score for live training: column shapes and pairwise trends on a small sample.

It mirrors the structure of sdmetrics' QualityReport (shapes: KS / total variation; trends: how well
each pair of columns co-varies) at a fraction of the cost, so it can run every few epochs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabular.encoding import TableEncoder


def _ks_complement(real: np.ndarray, synth: np.ndarray) -> float:
    real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if real.size == 0 or synth.size == 0:
        return float(real.size == synth.size)
    grid = np.union1d(real, synth)
    cdf_real = np.searchsorted(np.sort(real), grid, side="right") / real.size
    cdf_synth = np.searchsorted(np.sort(synth), grid, side="right") / synth.size
    return 1.0 - float(np.max(np.abs(cdf_real - cdf_synth)))


def _tv_complement(real: np.ndarray, synth: np.ndarray, slots: int) -> float:
    p = np.bincount(real, minlength=slots) / max(real.size, 1)
    q = np.bincount(synth, minlength=slots) / max(synth.size, 1)
    return 1.0 - 0.5 * float(np.abs(p - q).sum())


BINS = 10  # quantile bins per continuous column for the pair comparison


def _binned(real: pd.DataFrame, synth: pd.DataFrame, encoder: TableEncoder) -> list[tuple[np.ndarray, ...]]:
    """Per column: slot codes of real and synthetic values and the number of slots (numbers in bins)."""
    out = []
    for name, codec in encoder.codecs_.items():
        if codec.discrete:
            out.append((codec.codes(real[name]), codec.codes(synth[name]), len(codec.slots)))
            continue
        a, b = codec.to_normal(real[name]), codec.to_normal(synth[name])
        edges = np.unique(np.nanquantile(a, np.linspace(0, 1, BINS + 1)[1:-1])) if np.isfinite(a).any() else []
        code = [np.where(np.isnan(v), len(edges) + 1, np.searchsorted(edges, v)) for v in (a, b)]
        out.append((code[0], code[1], len(edges) + 2))
    return out


def quick_fidelity(real: pd.DataFrame, synth: pd.DataFrame, encoder: TableEncoder) -> dict:
    """Scores in [0, 1] (1 is a perfect match): ``shapes``, ``trends`` and their mean ``score``.

    Shapes: KS complement for numbers and dates, total-variation complement for categories.
    Trends: total-variation complement of every pair's joint distribution, numbers binned by quantile.
    """
    shapes = []
    for name, codec in encoder.codecs_.items():
        if codec.discrete:
            shapes.append(_tv_complement(codec.codes(real[name]), codec.codes(synth[name]), len(codec.slots)))
        else:
            shapes.append(_ks_complement(codec.to_normal(real[name]), codec.to_normal(synth[name])))
    binned = _binned(real, synth, encoder)
    pairs = []
    for i in range(len(binned)):
        for j in range(i + 1, len(binned)):
            (ra, sa, ka), (rb, sb, kb) = binned[i], binned[j]
            pairs.append(_tv_complement(ra * kb + rb, sa * kb + sb, ka * kb))
    shape = float(np.mean(shapes)) if shapes else 1.0
    trends = float(np.mean(pairs)) if pairs else 1.0
    return {"shapes": shape, "trends": trends, "score": (shape + trends) / 2}
