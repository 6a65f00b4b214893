"""The Gaussian mixture copula: links that differ between groups of rows, exact marginals, old files."""

import io

import numpy as np
import pandas as pd
import pytest
import torch

from models import registry
from models.base import Generator
from models.copula import _log_box_chance, _Mixture, _pick
from tabular.conditions import Condition, Conditions
from tabular.dataset import load_dataset
from tabular.privacy import PrivacySettings


@pytest.fixture(scope="module")
def flipped():
    """In group a, y rises with x; in group b it falls: overall the two look unrelated."""
    rng = np.random.default_rng(0)
    n = 4000
    group = rng.choice(["a", "b"], n)
    x = rng.standard_normal(n)
    y = np.where(group == "a", x, -x) + 0.3 * rng.standard_normal(n)
    amount = np.round(rng.lognormal(3, 1, n), 2)  # skewed, unrelated to the rest
    frame = pd.DataFrame({"group": group, "x": x.round(4), "y": y.round(4), "amount": amount})
    return load_dataset(frame.to_csv(index=False).encode(), "flipped.csv")


def fit(dataset, **settings):
    return registry.create("copula", **settings).fit(dataset.typed(), dataset.schema, privacy=PrivacySettings.off(),
                                                     seed=0)


def link_given(model, value: str) -> float:
    rows = model.sample(2000, seed=1, conditions=Conditions((Condition("group", "=", value),)))
    assert (rows["group"] == value).all()
    return float(np.corrcoef(rows["x"], rows["y"])[0, 1])


def test_mixture_learns_a_link_that_flips_between_groups(flipped):
    mixture, classic = fit(flipped), fit(flipped, components=1)
    assert len(mixture.mixture_.weights) > 1
    assert link_given(mixture, "a") > 0.6 and link_given(mixture, "b") < -0.6
    assert abs(link_given(classic, "a")) < 0.3  # one correlation matrix sees no link at all


def test_mixture_keeps_each_columns_own_distribution(flipped):
    real, rows = flipped.typed(), fit(flipped).sample(8000, seed=2)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert rows["amount"].quantile(q) == pytest.approx(real["amount"].quantile(q), rel=0.08)
    assert (rows["group"] == "a").mean() == pytest.approx((real["group"] == "a").mean(), abs=0.02)


def test_box_chance_is_exact_for_one_dimension_and_close_for_several():
    generator = torch.Generator().manual_seed(0)
    one = _log_box_chance(np.zeros(1), np.eye(1), [[(0.0, np.inf)]], generator)
    assert np.exp(one) == pytest.approx(0.5, abs=1e-12)
    rho = 0.5  # positive quadrant of a correlated pair: 1/4 + arcsin(rho) / (2 pi)
    both = _log_box_chance(np.zeros(2), np.array([[1, rho], [rho, 1]]), [[(0.0, np.inf)], [(0.0, np.inf)]],
                           generator)
    assert np.exp(both) == pytest.approx(0.25 + np.arcsin(rho) / (2 * np.pi), abs=0.02)
    shifted = _log_box_chance(np.array([3.0]), np.eye(1), [[(-np.inf, 0.0)]], generator)
    assert np.exp(shifted) == pytest.approx(0.00135, rel=0.01)


def test_a_copula_saved_before_the_mixture_still_loads(flipped):
    model = fit(flipped, components=1)
    checkpoint = torch.load(io.BytesIO(model.to_bytes()), weights_only=True)
    chol = checkpoint["networks"]["correlation"]["cholesky"]
    checkpoint["networks"]["correlation"] = {"cholesky": chol[0]}  # how files stored it: one [d, d] factor
    checkpoint["extra"] = {"dim": int(chol.shape[1])}
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    old = Generator.load(buffer.getvalue())
    pd.testing.assert_frame_equal(old.sample(300, seed=4), model.sample(300, seed=4))
    module = _Mixture(3)
    module.load_state_dict({"cholesky": 2 * torch.eye(3, dtype=torch.float64)})
    assert module.weights.tolist() == [1.0] and not module.means.any() and module.cholesky[0, 0, 0] == 2


def test_one_component_takes_no_random_draws():
    """The classic copula (and a file saved before the mixture) writes the rows it wrote before: picking among
    one component uses nothing of the random stream."""
    generator = torch.Generator().manual_seed(0)
    before = generator.get_state()
    assert (_pick(np.array([1.0]), 50, generator) == 0).all() and torch.equal(generator.get_state(), before)
    assert not torch.equal((_pick(np.array([0.5, 0.5]), 50, generator), generator.get_state())[1], before)
