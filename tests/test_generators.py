"""Contract every registered generator keeps: fit, sample, valid values, save/load, progress, cancel, seed."""

import pandas as pd
import pytest

from models import registry
from models.base import Generator, ModelError
from models.training import TrainingControl
from tabular.schema import Handling

TINY = {"copula": {}, "vae": {"epochs": 3, "batch_size": 60}, "gan": {"epochs": 2, "batch_size": 60},
        "bayesnet": {}, "auto": {"candidates": ("copula", "bayesnet")},
        "autoregressive": {"epochs": 3, "batch_size": 60, "width": 64},
        "diffusion": {"epochs": 3, "batch_size": 60, "width": 64},
        "flow": {"epochs": 3, "batch_size": 60, "hidden": 32},
        "rbm": {"epochs": 3, "batch_size": 60, "chains": 60, "hidden": 32, "burn_in": 20}}
NEURAL = [name for name in registry.names() if name not in ("copula", "auto")]  # those that learn in several steps


def trained(name, dataset, **extra):
    model = registry.create(name, "fast", **{**TINY[name], **extra})
    return model.fit(dataset.typed(), dataset.schema)


@pytest.fixture(scope="module", params=registry.names())
def fitted(request, mixed):
    events = []
    model = registry.create(request.param, "fast", **TINY[request.param])
    model.fit(mixed.typed(), mixed.schema, on_progress=events.append, validation=mixed.typed().head(60))
    return request.param, model, events


def test_sample_keeps_columns_kinds_and_valid_values(fitted, mixed):
    name, model, _ = fitted
    out = model.sample(300, seed=1)
    schema = mixed.schema
    expected = [c.name for c in schema.columns if c.handling is not Handling.DROP]
    assert list(out.columns) == expected and len(out) == 300
    typed = mixed.typed()
    assert set(out["plan"].dropna()) <= set(typed["plan"].dropna())
    assert set(out["region"].dropna()) <= set(typed["region"].dropna())
    assert out["visits"].dtype == "Int64"
    assert out["spend"].between(typed["spend"].min(), typed["spend"].max()).all()
    assert (out["spend"].round(2) == out["spend"]).all()
    assert pd.api.types.is_datetime64_any_dtype(out["joined"])
    assert out["joined"].dropna().between(typed["joined"].min(), typed["joined"].max()).all()
    assert out["active"].dtype == "boolean"
    assert out["customer_id"].is_unique and out["customer_id"].str.fullmatch(r"C\d{5}").all()
    assert len(set(out["customer_id"]) & set(typed["customer_id"])) <= 5  # new draws, not the real IDs
    assert out["email"].str.contains("@").all() and not set(out["email"]) & set(typed["email"])
    assert (out["note"] == "fixed").all()
    none = model.sample(0, seed=1)  # a request for no rows: the same columns and kinds, empty
    assert len(none) == 0 and list(none.columns) == expected and none["visits"].dtype == "Int64"


def test_missing_values_are_learned(fitted):
    name, model, _ = fitted
    out = model.sample(2000, seed=2)
    assert 0 < out["region"].isna().mean() < 0.5  # about 1 in 7 in the data


def test_same_seed_same_rows_and_save_load_round_trip(fitted, tmp_path):
    name, model, _ = fitted
    pd.testing.assert_frame_equal(model.sample(100, seed=5), model.sample(100, seed=5))
    assert not model.sample(100, seed=5).equals(model.sample(100, seed=6))
    path = tmp_path / f"{name}.pt"
    model.save(path)
    again = Generator.load(path)
    assert type(again) is type(model.picked)  # an automatic pick saves the generator it picked
    pd.testing.assert_frame_equal(model.sample(100, seed=5), again.sample(100, seed=5))


def test_progress_callback_called(fitted):
    name, model, events = fitted
    assert events and events[-1].message
    assert events[0].epoch == 1 and events[0].epochs == model._planned_epochs()  # bayesnet: one per column
    assert all(e.elapsed >= 0 for e in events)


def test_fit_is_reproducible_with_a_seed(mixed):
    for name in registry.names():
        a = trained(name, mixed, seed=7).sample(50, seed=1)
        b = trained(name, mixed, seed=7).sample(50, seed=1)
        pd.testing.assert_frame_equal(a, b)


def test_every_registered_generator_has_tiny_settings():
    assert set(TINY) == set(registry.names())


@pytest.mark.parametrize("name", NEURAL)
def test_cancel_stops_training(name, mixed):
    control = TrainingControl()
    seen = []

    def on_progress(event):
        seen.append(event)
        if event.epoch == 2:
            control.cancel()

    model = registry.create(name, "fast", **{**TINY[name], "epochs": 50})
    model.fit(mixed.typed(), mixed.schema, on_progress=on_progress, control=control)
    assert model.report_.stop_reason == "cancelled" and model.report_.epochs_run == 2
    assert len(model.sample(10)) == 10  # the model so far is still usable


def test_callback_returning_false_stops(mixed):
    model = registry.create("vae", "fast", epochs=50, batch_size=60)
    model.fit(mixed.typed(), mixed.schema, on_progress=lambda e: e.epoch < 3)
    assert model.report_.epochs_run == 3 and model.report_.stop_reason == "cancelled"


def test_plain_errors(mixed, tmp_path):
    with pytest.raises(ModelError, match="at least 10 rows"):
        registry.create("copula").fit(mixed.typed().head(5), mixed.schema)
    schema = type(mixed.schema).from_json(mixed.schema.to_json())
    for spec in schema.columns:
        spec.handling = Handling.DROP
    with pytest.raises(ModelError, match="nothing to learn"):
        registry.create("copula").fit(mixed.typed(), schema)
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a model file"):
        Generator.load(bad)


def test_registry_cards_are_complete():
    for name in registry.names():
        card = registry.card(name)
        assert card.title and card.good_at and card.speed and card.quality and card.analogy
        assert set(card.presets) == {"fast", "balanced", "best"}


def test_large_draws_come_in_chunks_with_the_same_columns(mixed, monkeypatch):
    model = trained("autoregressive", mixed, **TINY["autoregressive"])
    monkeypatch.setattr(type(model), "sample_chunk", 70)
    calls = []
    original = model._sample
    monkeypatch.setattr(model, "_sample", lambda n, g: calls.append(n) or original(n, g))
    out = model.sample(200, seed=3)
    assert calls == [70, 70, 60] and len(out) == 200 and out.index.is_unique
    pd.testing.assert_frame_equal(out, model.sample(200, seed=3))


def test_conditions_are_met_by_every_row(fitted, mixed):
    """Fixed values, a range and a mix: every row meets them, whatever the generator's way of meeting them."""
    from tabular.conditions import Conditions, parse_balance, parse_where

    name, model, _ = fitted
    schema = mixed.schema
    asked = Conditions((parse_where("plan=pro", schema), parse_where("spend>=20", schema)),
                       parse_balance("active=yes:0.25,no:0.75", schema))
    out = model.sample(200, seed=4, conditions=asked)
    assert len(out) == 200 and (out["plan"] == "pro").all() and (out["spend"] >= 20).all()
    assert (out["active"] == True).sum() == 50  # noqa: E712 - the mix is met exactly
    assert out["customer_id"].is_unique and (out["note"] == "fixed").all()  # the rest of the row as usual
    again = model.sample(200, seed=4, conditions=asked)
    pd.testing.assert_frame_equal(out, again)
