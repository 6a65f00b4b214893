"""Gaussian copula: each column's own distribution, tied together by one correlation matrix. The fast baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.base import Generator
from models.training import TrainingSession
from tabular.representations import NormalScores


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
