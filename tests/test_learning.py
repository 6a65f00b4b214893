"""Generators learn: every registered one beats column-wise independent sampling on pair trends on a table
with strong known dependencies, copies no training row, and gives the same rows alone or beside another fit."""

import threading

import numpy as np
import pandas as pd
import pytest
import torch

from evaluation.sdmetrics_bridge import quality_report
from models import registry
from models.compute import thread_limit, training_threads
from models.jobs import split_rows
from tabular.dataset import load_dataset
from tabular.matching import copied_rows

# Settings that learn this small table within seconds each (the presets are sized for real tables).
LEARN = {"copula": {}, "bayesnet": {}, "auto": {"candidates": ("copula", "bayesnet", "vae")},
         "vae": {"epochs": 300, "batch_size": 100}, "gan": {"epochs": 300, "batch_size": 100},
         "autoregressive": {"epochs": 60, "batch_size": 200}, "diffusion": {"epochs": 120, "batch_size": 200},
         "flow": {"epochs": 60, "batch_size": 200}, "rbm": {"epochs": 100, "batch_size": 50}}


def dependent_csv(n: int = 2000, seed: int = 0) -> bytes:
    """Columns that strongly depend on each other, with continuous noise so that no two rows are equal."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["retail", "business", "premium"], n, p=[0.5, 0.3, 0.2])
    region = np.where(rng.random(n) < 0.85, np.select([segment == "retail", segment == "business"],
                                                      ["north", "south"], "east"), rng.choice(["north", "south", "east"], n))
    base = np.select([segment == "retail", segment == "business"], [30_000, 60_000], 120_000)
    income = np.round(base * rng.lognormal(0, 0.25, n), 2)
    spend = np.round(0.3 * income * rng.lognormal(0, 0.1, n), 2)
    tenure = rng.integers(1, 73, n)
    churn = np.where(rng.random(n) < np.where(tenure < 12, 0.8, 0.1), "yes", "no")
    joined = pd.Timestamp("2024-12-31") - pd.to_timedelta(tenure * 30 + rng.integers(0, 30, n), unit="D")
    frame = pd.DataFrame({"segment": segment, "region": region, "income": income, "spend": spend,
                          "tenure": tenure, "churn": churn, "joined": joined.strftime("%Y-%m-%d")})
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def dependent():
    dataset = load_dataset(dependent_csv(), "dependent.csv")
    return dataset, split_rows(dataset, 0.2, seed=0)


def independent_columns(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Each column drawn on its own from the training rows: right shapes, no relationships."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n)] for c in train.columns})


@pytest.mark.parametrize("name", registry.names())
def test_generator_learns_relationships_and_copies_no_rows(name, dependent):
    dataset, rows = dependent
    train = pd.concat([rows.fit, rows.validation])
    model = registry.create(name, "balanced", **LEARN[name])
    model.fit(rows.fit, dataset.schema, validation=rows.validation, seed=0)
    synthetic = model.sample(len(train), seed=1)
    ceiling = quality_report(rows.holdout, train, dataset.schema)["column_pair_trends"]
    floor = quality_report(rows.holdout, independent_columns(train, len(train), 2), dataset.schema)
    learned = quality_report(rows.holdout, synthetic, dataset.schema)["column_pair_trends"]
    gap = ceiling - floor["column_pair_trends"]
    assert gap > 0.15  # the table really has relationships to learn
    assert learned >= floor["column_pair_trends"] + 0.5 * gap, (name, learned, floor["column_pair_trends"], ceiling)
    assert copied_rows(synthetic, train, dataset.schema).sum() == 0


def quick(name: str, epochs: int) -> dict:
    """Tiny settings: a few small epochs for the networks; the Bayesian network has none to shorten."""
    if name == "bayesnet":
        return {}
    if name == "auto":
        return {"candidates": ("bayesnet", "copula")}
    return {"epochs": epochs, "batch_size": 60, **({"width": 64} if name in ("autoregressive", "diffusion") else {}),
            **({"hidden": 32} if name == "flow" else {})}


@pytest.mark.parametrize("name", [n for n in registry.names() if n != "copula"])
def test_two_fits_at_once_give_the_same_rows_as_one_alone(name, mixed):
    settings = quick(name, epochs=3)

    def fit():
        model = registry.create(name, "fast", **settings)
        return model.fit(mixed.typed(), mixed.schema, seed=11).sample(80, seed=4)

    alone = fit()
    together: list[pd.DataFrame] = []
    workers = [threading.Thread(target=lambda: together.append(fit())) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(together) == 2
    for frame in together:
        pd.testing.assert_frame_equal(frame, alone)


@pytest.mark.parametrize("name", [n for n in registry.names() if n != "copula"])
def test_fit_neither_reads_nor_resets_process_wide_torch_state(name, mixed):
    settings = quick(name, epochs=2)
    results, threads = [], torch.get_num_threads()
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)  # whatever the process-wide generator holds ...
        model = registry.create(name, "fast", **settings).fit(mixed.typed(), mixed.schema, seed=5)
        after = torch.rand(3)
        torch.manual_seed(5)
        assert not torch.equal(after, torch.rand(3))  # ... the fit did not seed it with its own seed
        results.append(model.sample(40, seed=1))
    pd.testing.assert_frame_equal(results[0], results[1])  # ... and did not draw its randomness from it
    assert torch.get_num_threads() == threads


def test_thread_limit_is_per_thread_and_a_share_of_the_cores():
    assert training_threads(slots=1) >= training_threads(slots=2) >= 1
    assert training_threads(slots=10_000) == 1
    main_threads, seen = torch.get_num_threads(), {}

    def worker():
        with thread_limit(1):
            seen["inside"] = torch.get_num_threads()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["inside"] == 1
    assert torch.get_num_threads() == main_threads  # the caller's own count was not touched
