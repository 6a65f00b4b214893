"""The Bayesian network learns a real table's links, finds obvious parents, keeps its caps, and under
differential privacy spends no more than its budget and keeps its ledger through save and load."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.sdmetrics_bridge import quality_report
from models import registry
from models.base import Generator
from models.bn_structure import family_counts, g_sensitivity, g_statistic
from models.jobs import split_rows
from models.training import TrainingControl
from tabular.dataset import load_dataset
from tabular.privacy import PrivacySettings
from tests.test_learning import dependent_csv, independent_columns

SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "samples" / "customers.csv"


@pytest.fixture(scope="module")
def customers():
    """2,500 rows of the telecom customers sample (a real table: 20 columns learned, names and IDs faked)."""
    frame = pd.read_csv(SAMPLE, dtype=str).sample(2500, random_state=0)
    dataset = load_dataset(frame.to_csv(index=False).encode(), "customers.csv")
    return dataset, split_rows(dataset, 0.2, seed=0)


@pytest.fixture(scope="module")
def dependent():
    dataset = load_dataset(dependent_csv(), "dependent.csv")
    return dataset, split_rows(dataset, 0.2, seed=0)


def pair_trends(rows, synthetic, schema) -> tuple[float, float, float]:
    """(independent columns, synthetic, real training rows) pair-trend scores against the unseen rows."""
    train = pd.concat([rows.fit, rows.validation])
    floor = quality_report(rows.holdout, independent_columns(train, len(train), 2), schema)
    ceiling = quality_report(rows.holdout, train, schema)["column_pair_trends"]
    return floor["column_pair_trends"], quality_report(rows.holdout, synthetic, schema)["column_pair_trends"], ceiling


def test_learns_the_pair_trends_of_a_real_table(customers):
    dataset, rows = customers
    model = registry.create("bayesnet", "balanced").fit(rows.fit, dataset.schema, validation=rows.validation)
    floor, learned, ceiling = pair_trends(rows, model.sample(len(rows.fit), seed=1), dataset.schema)
    assert ceiling - floor > 0.1  # the table has links to learn
    assert learned >= floor + 0.6 * (ceiling - floor), (floor, learned, ceiling)
    assert model.report_.stop_reason == "finished" and model.report_.epochs_run == len(model.structure)
    strengths = [s for _, _, s in model.edges_]
    assert model.edges_ and min(strengths) > 0  # each edge with its mutual information


def _with_copy(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", "black"], n)
    return pd.DataFrame({"colour": colour, "noise": rng.choice(["a", "b", "c"], n),
                         "size": np.round(rng.lognormal(3, 1, n), 2),
                         "code": pd.Series(colour).map({"red": "R1", "green": "G2", "blue": "B3", "black": "K4"}),
                         "weight": np.round(rng.normal(70, 10, n), 1)})


def test_a_column_that_is_a_function_of_another_gets_it_as_parent():
    frame = _with_copy()
    dataset = load_dataset(frame.to_csv(index=False).encode(), "copy.csv")
    model = registry.create("bayesnet", "fast").fit(dataset.typed(), dataset.schema)
    structure = model.structure
    assert structure["code"] == ["colour"] or structure["colour"] == ["code"], structure
    linked = {(p, c) for p, c, _ in model.edges_}
    assert ("colour", "code") in linked or ("code", "colour") in linked
    out = model.sample(2000, seed=3)
    mapping = {"red": "R1", "green": "G2", "blue": "B3", "black": "K4"}
    assert (out["colour"].map(mapping) == out["code"]).mean() > 0.97  # the copy is kept in new rows


@pytest.mark.parametrize("cap", [1, 2])
def test_parents_and_table_size_stay_within_their_caps(customers, cap):
    dataset, rows = customers
    model = registry.create("bayesnet", "best", max_parents=cap, max_cells=600).fit(rows.fit, dataset.schema)
    parents = model.parents_
    assert max(len(p) for p in parents) <= cap
    assert cap == 1 or max(len(p) for p in parents) == 2  # the cap, not the data, limits the families
    assert all(table.size <= 600 or not parents[c] for c, table in enumerate(model.tables_))
    position = {c: i for i, c in enumerate(model.order_)}
    assert all(position[p] < position[c] for c, ps in enumerate(parents) for p in ps)  # a topological order


def test_same_seed_same_model_and_rows(mixed):
    for privacy in (None, PrivacySettings(epsilon=1.0, secret_noise=False)):
        a, b, c = (registry.create("bayesnet").fit(mixed.typed(), mixed.schema, seed=s, privacy=privacy)
                   for s in (3, 3, 4))
        pd.testing.assert_frame_equal(a.sample(200, seed=1), b.sample(200, seed=1))
        assert a.edges_ == b.edges_
        if privacy is not None:  # the noise comes from the fit's seed (without DP the search is exact)
            assert not a.sample(200, seed=1).equals(c.sample(200, seed=1))


def test_private_fit_spends_at_most_its_budget_and_still_learns(dependent):
    dataset, rows = dependent
    model = registry.create("bayesnet").fit(rows.fit, dataset.schema, validation=rows.validation, seed=0,
                                            privacy=PrivacySettings(epsilon=3.0, secret_noise=False))
    assert 1.5 < model.epsilon_spent <= 3.0  # (at epsilon 1 these 1,600 rows keep too little to beat the floor)
    assert model.report_.epochs_run == len(model.structure) + 1  # one step per column, then the tables
    assert max(len(p) for p in model.parents_) <= model.config.dp_max_parents
    floor, learned, ceiling = pair_trends(rows, model.sample(len(rows.fit), seed=1), dataset.schema)
    assert learned > floor + 0.1 * (ceiling - floor), (floor, learned, ceiling)


def test_private_model_keeps_its_ledger_and_structure_through_save_and_load(mixed, tmp_path):
    model = registry.create("bayesnet").fit(mixed.typed(), mixed.schema, privacy=PrivacySettings(epsilon=1.0))
    path = tmp_path / "private.pt"
    model.save(path)
    again = Generator.load(path)  # weights_only: tensors and plain data
    assert again.epsilon_spent == pytest.approx(model.epsilon_spent)
    assert again.ledger_.entries == model.ledger_.entries and again.privacy_.epsilon == 1.0
    assert again.structure == model.structure and again.edges_ == model.edges_
    pd.testing.assert_frame_equal(again.sample(100, seed=2), model.sample(100, seed=2))


def test_a_cancelled_private_fit_stays_within_budget_and_usable(mixed):
    control = TrainingControl()

    def on_progress(event):
        if event.epoch == 2:
            control.cancel()

    model = registry.create("bayesnet").fit(mixed.typed(), mixed.schema, on_progress=on_progress, control=control,
                                            privacy=PrivacySettings(epsilon=1.0))
    assert model.report_.stop_reason == "cancelled" and model.report_.epochs_run == 2
    assert model.epsilon_spent <= 1.0 and len(model.sample(20)) == 20


def test_g_statistic_changes_by_at_most_its_sensitivity_when_a_row_is_added():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, size=(200, 2))
    tokens[:, 1] = np.where(rng.random(200) < 0.7, tokens[:, 0], tokens[:, 1])
    vocab = np.array([4, 4])
    base = g_statistic(family_counts(tokens, 1, [0], vocab))
    for row in ([0, 0], [0, 3], [3, 1]):
        grown = g_statistic(family_counts(np.vstack([tokens, row]), 1, [0], vocab))
        assert abs(grown - base) <= g_sensitivity(len(tokens))
