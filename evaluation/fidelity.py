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


class FidelityReference:
    """The real rows' side of the live score, computed once so each measurement only encodes synthetic rows."""

    def __init__(self, real: pd.DataFrame, encoder: TableEncoder) -> None:
        self.encoder = encoder
        self.columns: list[tuple] = []  # (name, codec, real values or codes, bin edges or None, slots)
        for name, codec in encoder.codecs_.items():
            if codec.discrete:
                self.columns.append((name, codec, codec.codes(real[name]), None, len(codec.slots)))
                continue
            z = codec.to_normal(real[name])
            edges = np.unique(np.nanquantile(z, np.linspace(0, 1, BINS + 1)[1:-1])) if np.isfinite(z).any() else []
            self.columns.append((name, codec, z, np.asarray(edges), len(edges) + 2))
        self.real_codes = [self._bins(values, edges) if edges is not None else values
                           for _, _, values, edges, _ in self.columns]

    @staticmethod
    def _bins(z: np.ndarray, edges: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(z), len(edges) + 1, np.searchsorted(edges, z))

    def score(self, synth: pd.DataFrame) -> dict:
        """Scores in [0, 1] (1 is a perfect match): ``shapes``, ``trends`` and their mean ``score``.

        Shapes: KS complement for numbers and dates, total-variation complement for categories.
        Trends: total-variation complement of every pair's joint distribution, numbers binned by quantile.
        """
        shapes, codes = [], []
        for (name, codec, real, edges, slots), real_code in zip(self.columns, self.real_codes):
            if edges is None:
                synth_code = codec.codes(synth[name])
                shapes.append(_tv_complement(real, synth_code, slots))
            else:
                z = codec.to_normal(synth[name])
                shapes.append(_ks_complement(real, z))
                synth_code = self._bins(z, edges)
            codes.append((real_code, synth_code, slots))
        pairs = []
        for i in range(len(codes)):
            for j in range(i + 1, len(codes)):
                (ra, sa, ka), (rb, sb, kb) = codes[i], codes[j]
                pairs.append(_tv_complement(ra * kb + rb, sa * kb + sb, ka * kb))
        shape = float(np.mean(shapes)) if shapes else 1.0
        trends = float(np.mean(pairs)) if pairs else 1.0
        return {"shapes": shape, "trends": trends, "score": (shape + trends) / 2}


def quick_fidelity(real: pd.DataFrame, synth: pd.DataFrame, encoder: TableEncoder) -> dict:
    """One-off live score of ``synth`` against ``real`` (see ``FidelityReference.score``)."""
    return FidelityReference(real, encoder).score(synth)
