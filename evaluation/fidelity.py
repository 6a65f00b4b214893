"""A cheap fidelity score for live training: column shapes and pairwise trends on a small sample.

It mirrors the structure of sdmetrics' QualityReport (shapes: KS / total variation; trends: correlation
of normal scores) at a fraction of the cost, so it can run every few epochs.
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


def quick_fidelity(real: pd.DataFrame, synth: pd.DataFrame, encoder: TableEncoder, seed: int = 0) -> dict:
    """Scores in [0, 1] (1 is a perfect match): ``shapes``, ``trends`` and their mean ``score``."""
    shapes = []
    for name, codec in encoder.codecs_.items():
        if codec.discrete:
            shapes.append(_tv_complement(codec.codes(real[name]), codec.codes(synth[name]), len(codec.slots)))
        else:
            shapes.append(_ks_complement(codec.to_normal(real[name]), codec.to_normal(synth[name])))
    rng = np.random.default_rng(seed)
    a, b = encoder.normal_scores(real, rng), encoder.normal_scores(synth, rng)
    trends = 1.0
    if a.shape[1] > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            ca, cb = np.corrcoef(a, rowvar=False), np.corrcoef(b, rowvar=False)
        upper = np.triu_indices_from(ca, k=1)
        diff = np.abs(np.nan_to_num(ca[upper]) - np.nan_to_num(cb[upper]))
        trends = float(1.0 - diff.mean() / 2)
    shape = float(np.mean(shapes)) if shapes else 1.0
    return {"shapes": shape, "trends": trends, "score": (shape + trends) / 2}
