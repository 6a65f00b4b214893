"""Gaussian copula: each column's own distribution, tied together by one correlation matrix. The fast baseline.

Conditions are met exactly in the model: the scores a request allows are intervals (a category's slice of
the normal line, a number's range), so the asked columns are drawn from the correlated normal truncated to
them, and every other column from its conditional normal given those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.special import ndtr, ndtri

from models.base import Generator
from models.training import TrainingSession
from tabular.representations import NormalScores

if TYPE_CHECKING:
    from models.conditional import Evidence

GIBBS_SWEEPS = 8  # sweeps over the asked columns, so several conditions hold jointly (one needs none)


@dataclass
class CopulaConfig:
    """Settings of the Gaussian copula."""

    shrinkage: float = 0.01  # pull the correlation matrix towards identity, keeps it invertible
    seed: int = 0  # makes fit and sampling reproducible
    epochs: int = 1  # the copula fits in one pass; kept so every generator reports epochs
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _Correlation(torch.nn.Module):
    """Holds the Cholesky factor of the correlation of normal scores (a module, so it saves like weights)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("cholesky", torch.eye(dim, dtype=torch.float64))


class GaussianCopula(Generator):
    """Normal scores per column (from the shared encoder), a correlation matrix, and back."""

    name = "copula"
    Config = CopulaConfig
    representation = NormalScores()
    native_conditions = "conditional Gaussian"

    def _fit(self, data: np.ndarray, session: TrainingSession) -> None:
        self._build({"dim": data.shape[1]})
        if data.shape[1]:
            corr = np.corrcoef(data, rowvar=False) if data.shape[1] > 1 else np.ones((1, 1))
            corr = np.nan_to_num(np.atleast_2d(corr), nan=0.0)
            np.fill_diagonal(corr, 1.0)
            corr = (1 - self.config.shrinkage) * corr + self.config.shrinkage * np.eye(corr.shape[0])
            self.corr_.cholesky.copy_(torch.from_numpy(_nearest_cholesky(corr)))
        session.epoch_end(1, {"fit": 0.0})

    def _sample(self, n: int, generator: torch.Generator) -> np.ndarray:
        dim = self.corr_.cholesky.shape[0]
        noise = torch.randn(n, dim, generator=generator, dtype=torch.float64)
        return (noise @ self.corr_.cholesky.T).numpy()

    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> np.ndarray:
        """Asked scores from the correlated normal truncated to their intervals, the rest given them.

        The asked dimensions are drawn one at a time from their exact conditional given those drawn so far
        (inverse CDF on the union of allowed intervals), then Gibbs sweeps make them right jointly; the free
        dimensions follow the exact conditional normal: mean S_fc S_cc^-1 z_c, covariance S_ff - S_fc
        S_cc^-1 S_cf. Every returned row meets the intervals.
        """
        intervals = evidence.normal_intervals()
        if not intervals:
            return self._sample(n, generator)
        chol = self.corr_.cholesky.numpy()
        sigma = chol @ chol.T
        asked = sorted(intervals)
        free = [j for j in range(sigma.shape[0]) if j not in intervals]
        z = np.zeros((n, sigma.shape[0]))
        z[:, asked] = _truncated_normal(sigma[np.ix_(asked, asked)], [intervals[j] for j in asked], n, generator)
        if free:
            z[:, free] = _conditional_normal(sigma, asked, free, z[:, asked], generator)
        return z

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {"correlation": self.corr_}

    def _build(self, extra: dict) -> None:
        self.corr_ = _Correlation(int(extra["dim"]))

    def _extra_state(self) -> dict:
        return {"dim": int(self.corr_.cholesky.shape[0])}


def _nearest_cholesky(corr: np.ndarray) -> np.ndarray:
    """Cholesky factor, nudging the matrix until it is positive definite."""
    for jitter in (0.0, 1e-6, 1e-4, 1e-2, 1e-1):
        try:
            return np.linalg.cholesky(corr + jitter * np.eye(corr.shape[0]))
        except np.linalg.LinAlgError:
            continue
    return np.eye(corr.shape[0])


def _uniforms(generator: torch.Generator, *shape: int) -> np.ndarray:
    return torch.rand(*shape, generator=generator, dtype=torch.float64).numpy()


def _truncated_normal(sigma: np.ndarray, intervals: list[list[tuple[float, float]]], n: int,
                      generator: torch.Generator) -> np.ndarray:
    """``n`` draws of N(0, sigma) with dimension k inside the union of ``intervals[k]``.

    A first pass draws each dimension from its conditional given the ones before it (exact for one
    dimension); Gibbs sweeps, each dimension from its conditional given all the others, then bring several
    into their joint truncated distribution.
    """
    dim = len(intervals)
    z = np.zeros((n, dim))
    for k in range(dim):
        before = list(range(k))
        if before:
            weights = np.linalg.solve(sigma[np.ix_(before, before)], sigma[before, k])
            mean, var = z[:, before] @ weights, sigma[k, k] - sigma[k, before] @ weights
        else:
            mean, var = np.zeros(n), sigma[k, k]
        z[:, k] = _draw_in(mean, np.sqrt(max(var, 1e-12)), intervals[k], generator)
    if dim > 1:
        precision = np.linalg.inv(sigma)
        for _ in range(GIBBS_SWEEPS):
            for k in range(dim):
                others = [i for i in range(dim) if i != k]
                mean = -(z[:, others] @ precision[others, k]) / precision[k, k]
                z[:, k] = _draw_in(mean, np.sqrt(1 / precision[k, k]), intervals[k], generator)
    return z


def _draw_in(mean: np.ndarray, sd: float, intervals: list[tuple[float, float]],
             generator: torch.Generator) -> np.ndarray:
    """One draw per row of N(mean, sd^2) restricted to the union of ``intervals``, by inverse CDF.

    Each interval is read on the side of the normal where its tail probabilities are not rounded away
    (the upper tail mirrored), so even intervals far from the mean are drawn right.
    """
    low = (np.array([lo for lo, _ in intervals])[None, :] - mean[:, None]) / sd
    high = (np.array([hi for _, hi in intervals])[None, :] - mean[:, None]) / sd
    upper = low > 0  # wholly above the mean: work with the mirrored (survival) probabilities
    start = np.where(upper, ndtr(-high), ndtr(low))
    stop = np.where(upper, ndtr(-low), ndtr(high))
    mass = stop - start
    total = mass.sum(axis=1, keepdims=True)
    u = _uniforms(generator, len(mean), 2)
    share = np.where(total > 0, mass / np.where(total > 0, total, 1), 0.0)
    pick = np.minimum((u[:, :1] > np.cumsum(share, axis=1)).sum(axis=1), len(intervals) - 1)
    rows = np.arange(len(mean))
    p = np.maximum(start[rows, pick] + u[:, 1] * mass[rows, pick], 1e-300)
    x = np.where(upper[rows, pick], -ndtri(p), ndtri(p))
    lost = total[:, 0] <= 0  # every interval beyond float precision: the nearest point of the nearest one
    if lost.any():
        nearest = np.abs(np.clip(0.0, low, high)).argmin(axis=1)
        pick, x = np.where(lost, nearest, pick), np.where(lost, np.clip(0.0, low, high)[rows, nearest], x)
    return mean + sd * np.clip(x, low[rows, pick], high[rows, pick])


def _conditional_normal(sigma: np.ndarray, asked: list[int], free: list[int], given: np.ndarray,
                        generator: torch.Generator) -> np.ndarray:
    """Draws of the ``free`` dimensions of N(0, sigma) given the ``asked`` ones equal ``given``."""
    cross = sigma[np.ix_(free, asked)]
    weights = np.linalg.solve(sigma[np.ix_(asked, asked)], cross.T).T  # S_fc S_cc^-1
    cov = sigma[np.ix_(free, free)] - weights @ cross.T
    cov = (cov + cov.T) / 2
    noise = torch.randn(len(given), len(free), generator=generator, dtype=torch.float64).numpy()
    return given @ weights.T + noise @ _nearest_cholesky(cov).T
