"""Generators that meet conditions natively (copula, diffusion, GAN): nearly every row they draw meets the
request, and the other columns follow the model's conditional distribution, not the overall one."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from models import registry
from models.conditional import Evidence
from tabular.conditions import Condition, Conditions
from tabular.dataset import load_dataset
from tabular.privacy import PrivacySettings
from tests.conftest import kinds_table

# Small settings that learn the kinds table within seconds each.
SETTINGS = {"copula": {}, "diffusion": {"epochs": 30, "batch_size": 200, "width": 64},
            "gan": {"epochs": 40, "batch_size": 100}}
KIND_C = Conditions((Condition("kind", "=", "c"),))


def kinds_csv(n: int = 3000, seed: int = 0) -> bytes:
    """``kinds_table`` (a rare kind c, 5%, with much larger amounts) with a yes/no flag that goes with the kind."""
    frame, rng = kinds_table(n, seed)
    kind = frame["kind"].to_numpy()
    frame["flag"] = np.where(rng.random(n) < np.select([kind == "a", kind == "b"], [0.1, 0.5], 0.9), "yes", "no")
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def kinds():
    return load_dataset(kinds_csv(), "kinds.csv")


@pytest.fixture(scope="module", params=list(SETTINGS))
def fitted(request, kinds):
    model = registry.create(request.param, "fast", **SETTINGS[request.param])
    return request.param, model.fit(kinds.typed(), kinds.schema, seed=0)


def above_p90(kinds) -> tuple[float, Conditions]:
    x = float(kinds.typed()["amount"].quantile(0.9))
    return x, Conditions((Condition("amount", ">", x),))


def own_conditional(model, conditions: Conditions, n: int = 100_000) -> pd.DataFrame:
    """The model's own rows meeting the conditions, drawn freely and kept (what native sampling must match)."""
    rows = model.sample(n, seed=7)
    return rows[conditions.met(rows)]


def test_fixed_category_gives_the_conditional_rest(fitted, kinds):
    name, model = fitted
    out = model.sample(1000, seed=1, conditions=KIND_C)
    real = kinds.typed()
    assert len(out) == 1000 and (out["kind"] == "c").all()
    median = out["amount"].median()
    assert median > 100, f"{name}: amount given kind c should be near {real[real.kind == 'c'].amount.median()}"


def test_classic_copula_draws_its_own_conditional(kinds):
    """One correlation matrix (one component) cannot tie kind c to amounts near 200 (its own kind-c rows sit
    near 65), but its rows are its exact conditional: far above the overall median, as its kept rows are."""
    model = registry.create("copula", components=1).fit(kinds.typed(), kinds.schema, seed=0)
    median = model.sample(1000, seed=1, conditions=KIND_C)["amount"].median()
    assert 3 * kinds.typed()["amount"].median() < median < 100
    assert median == pytest.approx(own_conditional(model, KIND_C)["amount"].median(), rel=0.1)
    x, above = above_p90(kinds)
    share_c = (model.sample(1000, seed=2, conditions=above)["kind"] == "c").mean()
    assert share_c == pytest.approx((own_conditional(model, above)["kind"] == "c").mean(), abs=0.05)


def test_range_is_met_with_the_conditional_mix(fitted, kinds):
    name, model = fitted
    x, above = above_p90(kinds)
    out = model.sample(1000, seed=2, conditions=above)
    assert len(out) == 1000 and (out["amount"] > x).all()
    if name == "gan":  # a range has no native way in the GAN: met by drawing and keeping
        return
    share_c = (out["kind"] == "c").mean()
    real = kinds.typed()
    assert share_c == pytest.approx((real.loc[real["amount"] > x, "kind"] == "c").mean(), abs=0.15)


def test_native_draws_already_meet_the_request(fitted, kinds):
    name, model = fitted
    rows = model._decode_sample(500, 0, Evidence.build(model, KIND_C))
    assert (rows["kind"] == "c").mean() >= (0.5 if name == "gan" else 0.95)  # 5% of rows drawn freely
    if name != "gan":
        x, above = above_p90(kinds)
        rows = model._decode_sample(500, 0, Evidence.build(model, above))
        assert (rows["amount"] > x).sum() >= 0.85 * 500  # 10% of rows drawn freely


@pytest.mark.parametrize("fitted", ["gan"], indirect=True)  # the GAN's way for categories keep_share common
def test_gan_keeps_free_rows_of_a_common_category(fitted):
    _, model = fitted
    kind_a = Conditions((Condition("kind", "=", "a"),))
    rows = model._decode_sample(2000, 0, Evidence.build(model, kind_a))
    assert (rows["kind"] == "a").all() and len(rows) < 2000  # rows that drew another kind are not decoded
    own = own_conditional(model, kind_a, 20_000)  # its own conditional: the flag follows the kind as there
    assert (rows["flag"] == "yes").mean() == pytest.approx((own["flag"] == "yes").mean(), abs=0.05)


@pytest.mark.parametrize("fitted", ["gan"], indirect=True)
def test_gan_draws_the_same_rows_in_pieces_as_at_once(fitted, monkeypatch):
    _, model = fitted
    kind_b = Evidence.build(model, Conditions((Condition("kind", "=", "b"),)))  # 25%: kept from free rows
    whole = model._sample(500, torch.Generator().manual_seed(3))
    kept = model._sample_given(500, torch.Generator().manual_seed(3), kind_b)
    monkeypatch.setattr("models.gan.DRAW_PIECE", 7)  # 72 pieces; with 1 kind b row in 4, some keep none
    np.testing.assert_allclose(model._sample(500, torch.Generator().manual_seed(3)), whole, atol=1e-5)
    pieces = model._sample_given(500, torch.Generator().manual_seed(3), kind_b)
    assert 50 < len(pieces) < 200 and abs(len(pieces) - len(kept)) <= 30  # a quarter of 500, kept the same way
    np.testing.assert_allclose(pieces.mean(axis=0), kept.mean(axis=0), atol=0.08)


@pytest.mark.parametrize("fitted", ["gan"], indirect=True)
def test_gan_keeps_free_rows_only_when_they_draw_all_asked_categories_often(fitted, monkeypatch):
    _, model = fitted
    kept = []
    monkeypatch.setattr(model, "_kept", lambda n, generator, asked: kept.append(asked) or np.zeros((0, 1)))
    monkeypatch.setattr(model, "config", dataclasses.replace(model.config, keep_share=0.6))
    kind_a = Conditions((Condition("kind", "=", "a"),))  # 70% of rows
    model._sample_given(100, torch.Generator().manual_seed(0), Evidence.build(model, kind_a))
    assert len(kept) == 1
    both = Conditions(kind_a.where + (Condition("flag", "=", False),))  # 70% and 76%, together about 53%
    model._sample_given(100, torch.Generator().manual_seed(0), Evidence.build(model, both))
    assert len(kept) == 1  # asked of the condition vector: keeping would cost about 2x, not 1/0.7


def test_conditional_sampling_is_reproducible(fitted, kinds):
    _, model = fitted
    both = Conditions(KIND_C.where + above_p90(kinds)[1].where)
    first = model.sample(200, seed=3, conditions=both)
    pd.testing.assert_frame_equal(first, model.sample(200, seed=3, conditions=both))
    assert not first.equals(model.sample(200, seed=4, conditions=both))


def bivariate(rho: float = 0.8, n: int = 20_000):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    y = rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    dataset = load_dataset(pd.DataFrame({"x": x, "y": y}).round(4).to_csv(index=False).encode(), "xy.csv")
    return registry.create("copula", shrinkage=0.0, components=1).fit(dataset.typed(), dataset.schema, privacy=PrivacySettings.off())


def test_copula_draws_the_exact_conditional_gaussian():
    model = bivariate()
    evidence = Evidence.build(model, Conditions((Condition("x", ">=", 1.48), Condition("x", "<=", 1.52))))
    scores = model._sample_given(20_000, torch.Generator().manual_seed(0), evidence)
    assert np.all(np.abs(scores[:, 0] - 1.5) < 0.05)
    assert scores[:, 1].mean() == pytest.approx(0.8 * 1.5, abs=0.03)
    assert scores[:, 1].std() == pytest.approx(0.6, abs=0.02)


def test_copula_meets_several_ranges_jointly():
    model = bivariate()
    evidence = Evidence.build(model, Conditions((Condition("x", ">", 1.0), Condition("y", "<", 0.0))))
    (x_low, x_high), = evidence.normal_intervals()[0]
    (y_low, y_high), = evidence.normal_intervals()[1]
    scores = model._sample_given(20_000, torch.Generator().manual_seed(0), evidence)
    free = model._sample(2_000_000, torch.Generator().manual_seed(1))  # the same law, drawn and kept
    kept = free[(free[:, 0] > x_low) & (free[:, 0] < x_high) & (free[:, 1] > y_low) & (free[:, 1] < y_high)]
    assert np.all((scores[:, 0] >= x_low) & (scores[:, 0] <= x_high))
    assert np.all((scores[:, 1] >= y_low) & (scores[:, 1] <= y_high))
    assert scores.mean(axis=0) == pytest.approx(kept.mean(axis=0), abs=0.02)
    assert scores.std(axis=0) == pytest.approx(kept.std(axis=0), abs=0.02)
