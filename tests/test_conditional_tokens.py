"""Token generators meet conditions natively: the autoregressive network fixes the asked columns first, the
Bayesian network samples them exactly as evidence, the RBM holds them fixed in its Gibbs chains. Nearly every
row they draw meets a rare condition, and the other columns follow the conditional distribution."""

import numpy as np
import pandas as pd
import pytest

import models.bayesnet as bayesnet
from models import registry
from models.conditional import Evidence, native_generators
from tabular.conditions import Condition, Conditions
from tabular.dataset import load_dataset
from tests.conftest import kinds_table

# Settings that learn the dependence of this table within seconds (the RBM needs the most steps).
SETTINGS = {"autoregressive": {"epochs": 15, "batch_size": 200, "width": 64},
            "bayesnet": {},
            "rbm": {"epochs": 100, "batch_size": 50, "chains": 100, "hidden": 64, "burn_in": 100}}
RARE = Conditions((Condition("kind", "=", "c"),))


def kinds_csv(n: int = 3000, seed: int = 0) -> bytes:
    """``kinds_table`` with ``flag`` low, mid or high, mostly following the kind."""
    frame, rng = kinds_table(n, seed)
    kind = frame["kind"].to_numpy()
    frame["flag"] = np.where(rng.random(n) < 0.85, np.select([kind == "a", kind == "b"], ["low", "mid"], "high"),
                             rng.choice(["low", "mid", "high"], n))
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def kinds():
    dataset = load_dataset(kinds_csv(), "kinds.csv")
    return dataset, dataset.typed()


@pytest.fixture(scope="module", params=list(SETTINGS))
def fitted(request, kinds):
    dataset, real = kinds
    model = registry.create(request.param, "fast", **SETTINGS[request.param])
    return model.fit(real, dataset.schema, seed=0)


def high_amount(real: pd.DataFrame) -> Conditions:
    return Conditions((Condition("amount", ">", float(real["amount"].quantile(0.9))),))


def test_the_three_token_generators_say_they_meet_conditions_natively():
    for name in SETTINGS:
        assert registry.generator_class(name).native_conditions
        assert name in native_generators()


def test_a_fixed_rare_category_gives_the_other_columns_given_it(fitted, kinds):
    _, real = kinds
    out = fitted.sample(1000, seed=1, conditions=RARE)
    assert len(out) == 1000 and (out["kind"] == "c").all()
    assert real.loc[real["kind"] == "c", "amount"].median() > 150
    assert out["amount"].median() > 100  # conditional (c: around 200), not the marginal (about 12)
    assert (out["flag"] == "high").mean() > 0.6  # real: about 0.9 given c, 0.1 overall


def test_a_range_gives_the_kind_mix_of_the_real_rows_in_that_range(fitted, kinds):
    _, real = kinds
    conditions = high_amount(real)
    out = fitted.sample(2000, seed=2, conditions=conditions)
    assert len(out) == 2000 and conditions.met(out).all()
    real_share = (real.loc[conditions.met(real), "kind"] == "c").mean()  # about 0.48 (0.05 overall)
    assert abs((out["kind"] == "c").mean() - real_share) < 0.15
    assert (out["kind"] == "a").mean() < 0.1  # a's amounts (about 10) are nowhere near the range


@pytest.mark.parametrize("which", ["rare category", "range"])
def test_the_drawn_rows_already_meet_the_condition(fitted, kinds, which):
    conditions = RARE if which == "rare category" else high_amount(kinds[1])
    frame = fitted._decode_sample(500, 0, Evidence.build(fitted, conditions))
    assert len(frame) == 500  # the Bayesian network's exact draw keeps every row here
    assert conditions.met(frame).mean() >= 0.95


def test_conditioned_rows_are_reproducible_with_a_seed(fitted, kinds):
    conditions = Conditions(RARE.where + high_amount(kinds[1]).where)
    first = fitted.sample(200, seed=4, conditions=conditions)
    pd.testing.assert_frame_equal(first, fitted.sample(200, seed=4, conditions=conditions))
    assert not first.equals(fitted.sample(200, seed=5, conditions=conditions))


def test_bayesnet_likelihood_weighting_keeps_exact_draws_of_the_conditional(kinds, monkeypatch):
    """With the ancestors' table too large to draw jointly, accepted likelihood-weighted rows meet the
    condition and have the same mix as the exact joint draw."""
    dataset, real = kinds
    model = registry.create("bayesnet", "fast").fit(real, dataset.schema, seed=0)
    conditions = high_amount(real)
    exact = model.sample(4000, seed=6, conditions=conditions)
    monkeypatch.setattr(bayesnet, "EXACT_CELLS", 0)
    kept = model._decode_sample(5000, 0, Evidence.build(model, conditions))
    assert 0 < len(kept) < 5000 and conditions.met(kept).mean() >= 0.99
    weighted = model.sample(4000, seed=6, conditions=conditions)
    assert conditions.met(weighted).all()
    assert abs((weighted["kind"] == "c").mean() - (exact["kind"] == "c").mean()) < 0.05


@pytest.mark.parametrize("name", list(SETTINGS))
def test_several_conditions_of_every_kind_at_once_are_met_by_the_drawn_rows(name, mixed):
    """A range on a number and on a date, a fixed whole number, a yes/no and a category (with missing values
    in the table): a combination the 240 real rows hardly hold."""
    tiny = {"autoregressive": {"epochs": 3, "batch_size": 60, "width": 64}, "bayesnet": {},
            "rbm": {"epochs": 3, "batch_size": 60, "chains": 60, "hidden": 32, "burn_in": 20}}[name]
    model = registry.create(name, "fast", **tiny).fit(mixed.typed(), mixed.schema, seed=0)
    conditions = Conditions((Condition("spend", ">", 30.0), Condition("joined", ">=", pd.Timestamp("2024-01-01")),
                             Condition("region", "=", "north"), Condition("visits", "=", 4.0),
                             Condition("active", "=", True)))
    frame = model._decode_sample(500, 0, Evidence.build(model, conditions))
    assert len(frame) > 0 and conditions.met(frame).mean() >= 0.95
    out = model.sample(100, seed=0, conditions=conditions)
    assert len(out) == 100 and conditions.met(out).all()
