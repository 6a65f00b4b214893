"""Gaussian mixture copula: each column's own distribution, tied together by a few correlated normal groups.

Every column becomes a normal score (the shared encoder); the scores are modelled as a mixture of correlated
normals (one component is the classic Gaussian copula, one correlation matrix). Several components let the
ties differ between groups of rows: churners have short tenures and monthly contracts, other customers not.
Drawn scores are mapped through the mixture's own marginal CDF back to standard normal ones, so each column
keeps its own distribution exactly whatever the mixture.

Conditions are met exactly in the model: the scores a request allows are intervals (a category's slice of
the normal line, a number's range). Each row's component is drawn given the request (its prior weight times
the chance it gives the intervals), the asked columns from that component's normal truncated to them, and
every other column from its conditional normal given those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.special import logsumexp, ndtr, ndtri

from models.base import Generator
from models.training import TrainingSession
from tabular.representations import NormalScores

if TYPE_CHECKING:
    from models.conditional import Evidence

GIBBS_SWEEPS = 8  # sweeps over the asked columns, so several conditions hold jointly (one needs none)
BOX_DRAWS = 256  # draws per component estimating how likely it makes several asked intervals at once (GHK)
EM_STEPS = 100  # EM steps at most when fitting the mixture
EM_TOL = 1e-4  # stop EM once the mean log-likelihood per row gains less than this
EM_RIDGE = 1e-4  # added to each covariance's diagonal, keeps a component from collapsing onto a few rows
CATEGORY_SPREAD = 0.1  # share of a category score's distance from its slice's middle kept when fitting
KMEANS_STEPS = 10  # k-means steps choosing where EM starts
EDGE = 1e-12  # probabilities are kept this far from 0 and 1 before going back to the normal line


@dataclass
class CopulaConfig:
    """Settings of the Gaussian (mixture) copula."""

    components: int = 8  # correlated normal groups (1: the classic copula, one correlation matrix for all rows)
    rows_per_component: int = 10  # rows a component needs per column it ties together (fewer rows: fewer components)
    fit_rows: int = 20_000  # rows the mixture is fitted on at most (a random subset of bigger tables)
    shrinkage: float = 0.01  # pull each correlation matrix towards identity, keeps it invertible
    seed: int = 0  # makes fit and sampling reproducible
    epochs: int = 1  # the copula fits in one pass; kept so every generator reports epochs
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _Mixture(torch.nn.Module):
    """Weights, means and Cholesky factors of the mixture (a module, so it saves like weights)."""

    def __init__(self, dim: int, components: int = 1) -> None:
        super().__init__()
        self.register_buffer("weights", torch.full((components,), 1.0 / components, dtype=torch.float64))
        self.register_buffer("means", torch.zeros(components, dim, dtype=torch.float64))
        self.register_buffer("cholesky", torch.eye(dim, dtype=torch.float64).repeat(components, 1, 1))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        old = state_dict.get(prefix + "cholesky")
        if old is not None and old.dim() == 2:  # a file from before the mixture: one component, centred
            state_dict[prefix + "cholesky"] = old[None]
            state_dict[prefix + "weights"] = torch.ones(1, dtype=torch.float64)
            state_dict[prefix + "means"] = torch.zeros(1, old.shape[0], dtype=torch.float64)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(weights [k], means [k, d], covariances [k, d, d]) as numpy arrays."""
        chol = self.cholesky.numpy()
        return self.weights.numpy(), self.means.numpy(), chol @ np.swapaxes(chol, 1, 2)


class GaussianCopula(Generator):
    """Normal scores per column (from the shared encoder), a mixture of correlated normals, and back."""

    name = "copula"
    Config = CopulaConfig
    representation = NormalScores()
    native_conditions = "conditional Gaussian mixture"

    def _fit(self, data: np.ndarray, session: TrainingSession) -> None:
        rows, dim = data.shape
        k = self._components(rows, dim)
        self._build({"dim": dim, "components": k})
        if dim:
            weights, means, covs = (_one_normal(data) if k == 1 else
                                    _mixture(self._centred(data), k, self.config.fit_rows, self.rng_))
            s = self.config.shrinkage
            covs = [(1 - s) * c + s * np.diag(np.diag(c)) for c in covs]
            self.mixture_.weights.copy_(torch.from_numpy(np.asarray(weights, dtype=np.float64)))
            self.mixture_.means.copy_(torch.from_numpy(np.asarray(means, dtype=np.float64)))
            self.mixture_.cholesky.copy_(torch.from_numpy(np.stack([_nearest_cholesky(c) for c in covs])))
        session.epoch_end(1, {"fit": 0.0})

    def _centred(self, data: np.ndarray) -> np.ndarray:
        """Category scores pulled towards the middle of their value's slice of the normal line.

        Where a category's score sits inside its slice is noise the encoder adds; fitted as it is, the mixture
        spends its components on that noise. Pulled in, each value is a tight cluster the components can
        follow (telco: pair trends 0.897 -> 0.938, churners' other columns 0.909 -> 0.960).
        """
        out = data.copy()
        for j, span in enumerate(self.encoder_.spans_):
            codec = self.encoder_.codecs_[span.column]
            if codec.discrete:
                middle = _slice_means(codec.normal_edges())[codec.normal_slots(data[:, j])]
                out[:, j] = middle + CATEGORY_SPREAD * (data[:, j] - middle)
        return out

    def _components(self, rows: int, dim: int) -> int:
        """As many components as asked, while each still has enough rows to learn its correlations from."""
        enough = self.config.rows_per_component * max(dim, 1) * 2
        return int(max(1, min(self.config.components, rows // enough)))

    def _sample(self, n: int, generator: torch.Generator) -> np.ndarray:
        weights, means, _ = self.mixture_.arrays()
        which = _pick(weights, n, generator)
        noise = torch.randn(n, means.shape[1], generator=generator, dtype=torch.float64).numpy()
        chol = self.mixture_.cholesky.numpy()
        z = np.empty_like(noise)
        for c in np.unique(which):
            rows = which == c
            z[rows] = means[c] + noise[rows] @ chol[c].T
        return self._standard(z)

    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> np.ndarray:
        """Each row's component given the asked intervals, then its truncated and conditional normal.

        A component's chance of the intervals is exact for one asked dimension and a GHK estimate for
        several. Within the component the asked dimensions are drawn from its normal truncated to them, the
        free ones from the exact conditional normal (mean S_fc S_cc^-1 z_c, covariance S_ff - S_fc S_cc^-1
        S_cf). Every returned row meets the intervals.
        """
        intervals = evidence.normal_intervals()
        if not intervals:
            return self._sample(n, generator)
        weights, means, covs = self.mixture_.arrays()
        asked = sorted(intervals)
        free = [j for j in range(means.shape[1]) if j not in intervals]
        raw = {j: self._raw_intervals(j, intervals[j]) for j in asked}
        posterior = weights  # one component (the classic copula): nothing to weigh, no draws spent on it
        if len(weights) > 1:
            log_chance = np.log(np.maximum(weights, 1e-300)) + np.array(
                [_log_box_chance(means[c, asked], covs[c][np.ix_(asked, asked)], [raw[j] for j in asked], generator)
                 for c in range(len(weights))])
            posterior = np.exp(log_chance - logsumexp(log_chance)) if np.isfinite(log_chance).any() else weights
        which = _pick(posterior, n, generator)
        z = np.zeros((n, means.shape[1]))
        for c in np.unique(which):
            rows = np.flatnonzero(which == c)
            z[rows] = _given(means[c], covs[c], asked, free, [raw[j] for j in asked], len(rows), generator)
        return self._standard(z)

    @property
    def _classic(self) -> bool:
        """One centred component with unit variances (the classic copula): its scores are already standard."""
        return len(self.mixture_.weights) == 1 and not self.mixture_.means.any()

    def _standard(self, z: np.ndarray) -> np.ndarray:
        """Scores of the mixture mapped through its own marginal CDFs to standard normal ones."""
        if self._classic:
            return z
        return ndtri(np.clip(self._marginal_cdf(z), EDGE, 1 - EDGE))

    def _marginal_cdf(self, z: np.ndarray, dims: list[int] | None = None) -> np.ndarray:
        weights, means, covs = self.mixture_.arrays()
        dims = list(range(means.shape[1])) if dims is None else dims
        out = np.zeros_like(z)
        for c, weight in enumerate(weights):
            out += weight * ndtr((z - means[c, dims]) / np.sqrt(np.diag(covs[c])[dims]))
        return out

    def _raw_intervals(self, dim: int, intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Standard-score intervals of one dimension as intervals of the mixture's own scores."""
        if self._classic:
            return intervals
        bounds = np.array([b for pair in intervals for b in pair], dtype=np.float64)
        raw = self._invert_cdf(dim, ndtr(bounds))
        raw = np.where(np.isinf(bounds), bounds, raw)
        return [(float(raw[2 * i]), float(raw[2 * i + 1])) for i in range(len(intervals))]

    def _invert_cdf(self, dim: int, p: np.ndarray) -> np.ndarray:
        """The mixture scores at which dimension ``dim``'s marginal CDF reaches ``p`` (bisection)."""
        low, high = np.full(len(p), -40.0), np.full(len(p), 40.0)
        for _ in range(80):
            mid = (low + high) / 2
            below = self._marginal_cdf(mid[:, None], [dim])[:, 0] < p
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        return (low + high) / 2

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {"correlation": self.mixture_}

    def _build(self, extra: dict) -> None:
        self.mixture_ = _Mixture(int(extra["dim"]), int(extra.get("components", 1)))

    def _extra_state(self) -> dict:
        return {"dim": int(self.mixture_.means.shape[1]), "components": int(len(self.mixture_.weights))}


def _slice_means(edges: np.ndarray) -> np.ndarray:
    """Mean of a standard normal inside each slice between consecutive ``edges``."""
    mass = np.maximum(ndtr(edges[1:]) - ndtr(edges[:-1]), 1e-300)
    return (np.exp(-edges[:-1] ** 2 / 2) - np.exp(-edges[1:] ** 2 / 2)) / np.sqrt(2 * np.pi) / mass


def _one_normal(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The classic copula: one centred component whose covariance is the correlation of the scores."""
    corr = np.corrcoef(data, rowvar=False) if data.shape[1] > 1 else np.ones((1, 1))
    corr = np.nan_to_num(np.atleast_2d(corr), nan=0.0)
    np.fill_diagonal(corr, 1.0)
    return np.ones(1), np.zeros((1, data.shape[1])), [corr]


def _mixture(data: np.ndarray, k: int, fit_rows: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A ``k``-component Gaussian mixture fitted by EM (on at most ``fit_rows`` rows), in PyTorch so the fit
    keeps to this training's threads."""
    if len(data) > fit_rows:
        data = data[rng.choice(len(data), fit_rows, replace=False)]
    x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float64))
    resp = _kmeans_start(x, k, rng)
    previous = -np.inf
    for _ in range(EM_STEPS):
        weights, means, covs = _m_step(x, resp)
        log_joint = _log_joint(x, weights, means, covs)
        total = torch.logsumexp(log_joint, dim=1)
        resp = torch.exp(log_joint - total[:, None])
        current = float(total.mean())
        if current - previous < EM_TOL:
            break
        previous = current
    weights, means, covs = _m_step(x, resp)
    return weights.numpy(), means.numpy(), list(covs.numpy())


def _kmeans_start(x: torch.Tensor, k: int, rng: np.random.Generator) -> torch.Tensor:
    """Hard responsibilities from a few k-means steps, started at k-means++ centres."""
    centres = x[[int(rng.integers(len(x)))]]
    for _ in range(1, k):
        gap = torch.cdist(x, centres).min(dim=1).values ** 2
        p = (gap / gap.sum()).numpy() if float(gap.sum()) > 0 else None
        centres = torch.cat([centres, x[[int(rng.choice(len(x), p=p))]]])
    for _ in range(KMEANS_STEPS):
        nearest = torch.cdist(x, centres).argmin(dim=1)
        for c in range(k):
            if bool((nearest == c).any()):
                centres[c] = x[nearest == c].mean(dim=0)
    return torch.nn.functional.one_hot(torch.cdist(x, centres).argmin(dim=1), k).to(x.dtype)


def _m_step(x: torch.Tensor, resp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weights, means and covariances given each row's responsibilities (a small ridge keeps them invertible)."""
    counts = resp.sum(dim=0) + 1e-10
    means = (resp.T @ x) / counts[:, None]
    eye = torch.eye(x.shape[1], dtype=x.dtype)
    covs = torch.stack([((resp[:, c, None] * (x - means[c])).T @ (x - means[c])) / counts[c] + EM_RIDGE * eye
                        for c in range(resp.shape[1])])
    return counts / counts.sum(), means, covs


def _log_joint(x: torch.Tensor, weights: torch.Tensor, means: torch.Tensor, covs: torch.Tensor) -> torch.Tensor:
    """log(weight_c * N(x | mean_c, cov_c)) for every row and component: [rows, components]."""
    chol = torch.linalg.cholesky(covs)
    out = []
    for c in range(len(weights)):
        y = torch.linalg.solve_triangular(chol[c], (x - means[c]).T, upper=False)
        log_det = torch.log(torch.diagonal(chol[c])).sum()
        out.append(torch.log(weights[c]) - 0.5 * (y ** 2).sum(dim=0) - log_det - 0.5 * x.shape[1] * np.log(2 * np.pi))
    return torch.stack(out, dim=1)


def _pick(probs: np.ndarray, n: int, generator: torch.Generator) -> np.ndarray:
    """``n`` component indices drawn with probabilities ``probs`` (one component takes no draws: the classic
    copula's random stream stays as it was before the mixture)."""
    if n <= 0 or len(probs) == 1:
        return np.zeros(max(n, 0), dtype=np.int64)
    return torch.multinomial(torch.from_numpy(probs), n, replacement=True, generator=generator).numpy()


def _given(mean: np.ndarray, cov: np.ndarray, asked: list[int], free: list[int],
           intervals: list[list[tuple[float, float]]], n: int, generator: torch.Generator) -> np.ndarray:
    """``n`` draws of N(mean, cov) with the asked dimensions inside their intervals."""
    shifted = [[(lo - mean[j], hi - mean[j]) for lo, hi in spans] for j, spans in zip(asked, intervals)]
    x = np.zeros((n, len(mean)))
    x[:, asked] = _truncated_normal(cov[np.ix_(asked, asked)], shifted, n, generator)
    if free:
        x[:, free] = _conditional_normal(cov, asked, free, x[:, asked], generator)
    return x + mean


def _log_box_chance(mean: np.ndarray, cov: np.ndarray, intervals: list[list[tuple[float, float]]],
                    generator: torch.Generator) -> float:
    """Log of the chance N(mean, cov) falls inside the intervals: exact for one dimension, else GHK."""
    shifted = [[(lo - m, hi - m) for lo, hi in spans] for m, spans in zip(mean, intervals)]
    draws = 1 if len(mean) == 1 else BOX_DRAWS
    _, log_mass = _sequential(cov, shifted, draws, generator)
    return float(logsumexp(log_mass) - np.log(draws))


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


def _sequential(sigma: np.ndarray, intervals: list[list[tuple[float, float]]], n: int,
                generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each dimension from its conditional given the ones before it, inside its intervals; with the log of
    the product of the conditional chances (GHK: its mean estimates the chance of the whole box)."""
    dim = len(intervals)
    z, log_mass = np.zeros((n, dim)), np.zeros(n)
    for k in range(dim):
        before = list(range(k))
        if before:
            weights = np.linalg.solve(sigma[np.ix_(before, before)], sigma[before, k])
            mean, var = z[:, before] @ weights, sigma[k, k] - sigma[k, before] @ weights
        else:
            mean, var = np.zeros(n), sigma[k, k]
        z[:, k], mass = _draw_in(mean, np.sqrt(max(var, 1e-12)), intervals[k], generator)
        log_mass += np.log(np.maximum(mass, 1e-300))
    return z, log_mass


def _truncated_normal(sigma: np.ndarray, intervals: list[list[tuple[float, float]]], n: int,
                      generator: torch.Generator) -> np.ndarray:
    """``n`` draws of N(0, sigma) with dimension k inside the union of ``intervals[k]``.

    A first pass draws each dimension from its conditional given the ones before it (exact for one
    dimension); Gibbs sweeps, each dimension from its conditional given all the others, then bring several
    into their joint truncated distribution.
    """
    dim = len(intervals)
    z, _ = _sequential(sigma, intervals, n, generator)
    if dim > 1:
        precision = np.linalg.inv(sigma)
        for _ in range(GIBBS_SWEEPS):
            for k in range(dim):
                others = [i for i in range(dim) if i != k]
                mean = -(z[:, others] @ precision[others, k]) / precision[k, k]
                z[:, k], _ = _draw_in(mean, np.sqrt(1 / precision[k, k]), intervals[k], generator)
    return z


def _draw_in(mean: np.ndarray, sd: float, intervals: list[tuple[float, float]],
             generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One draw per row of N(mean, sd^2) restricted to the union of ``intervals``, by inverse CDF, with the
    chance of the union per row.

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
    return mean + sd * np.clip(x, low[rows, pick], high[rows, pick]), total[:, 0]


def _conditional_normal(sigma: np.ndarray, asked: list[int], free: list[int], given: np.ndarray,
                        generator: torch.Generator) -> np.ndarray:
    """Draws of the ``free`` dimensions of N(0, sigma) given the ``asked`` ones equal ``given``."""
    cross = sigma[np.ix_(free, asked)]
    weights = np.linalg.solve(sigma[np.ix_(asked, asked)], cross.T).T  # S_fc S_cc^-1
    cov = sigma[np.ix_(free, free)] - weights @ cross.T
    cov = (cov + cov.T) / 2
    noise = torch.randn(len(given), len(free), generator=generator, dtype=torch.float64).numpy()
    return given @ weights.T + noise @ _nearest_cholesky(cov).T
