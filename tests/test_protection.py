"""Privacy protections (on by default): rare values pooled, extremes clipped, no exact real value in the model."""

import struct

import numpy as np
import pandas as pd
import pytest

from evaluation import canaries
from models import registry
from models.base import Generator
from models.copula import GaussianCopula
from models.vae import TabularVAE
from tabular.dataset import load_dataset
from tabular.encoding import TableEncoder
from tabular.privacy import POOLED_LABEL, PrivacyLedger, PrivacySettings
from tabular.protection import averaged_quantiles, coarse_range, guards_for
from tests.test_learning import dependent_csv


@pytest.fixture(scope="module")
def planted():
    dataset = load_dataset(dependent_csv(1200), "dependent.csv")
    table, planted_values = canaries.plant(dataset.typed(), dataset.schema, np.random.default_rng(3))
    return dataset.schema, table, planted_values


def test_planting_finds_every_kind_of_canary(planted):
    schema, table, planted_values = planted
    assert {c.column for c in planted_values} == {"segment", "region", "income", "spend", "tenure"}
    for canary in planted_values:
        assert (table[canary.column].astype(str) == str(canary.value)).sum() == 1 or \
            (pd.to_numeric(table[canary.column], errors="coerce") == canary.value).sum() == 1


@pytest.mark.parametrize("model_cls", [GaussianCopula, TabularVAE])
def test_canaries_never_come_out_with_protections_on(planted, model_cls):
    schema, table, planted_values = planted
    model = model_cls(epochs=2) if model_cls is TabularVAE else model_cls()
    model.fit(table, schema, seed=0)
    synthetic = model.sample(20_000, seed=1)
    assert canaries.leaks(planted_values, synthetic, model.to_bytes()) == []
    assert POOLED_LABEL in set(synthetic["segment"].astype(str))  # the rare label became "Other"


def test_the_check_can_fail_when_protections_are_off(planted):
    schema, table, planted_values = planted
    model = GaussianCopula().fit(table, schema, seed=0, privacy=PrivacySettings.off())
    found = canaries.leaks(planted_values, model.sample(20_000, seed=1), model.to_bytes())
    assert any(f.canary.column == "segment" and f.in_file for f in found)
    assert any(f.canary.column == "income" for f in found)
    assert "segment: the planted value 'CANARY-" in " ".join(f.sentence for f in found)


def test_model_file_schema_keeps_no_rare_category_or_exact_range(planted):
    schema, table, _ = planted
    model = Generator.load(GaussianCopula().fit(table, schema, seed=0).to_bytes())
    segment, income = model.schema_.column("segment"), model.schema_.column("income")
    assert not any(c.startswith("CANARY") for c in segment.categories)
    assert income.maximum < table["income"].max() and income.minimum > table["income"].min()
    assert model.privacy_.protect and model.epsilon_spent is None


def test_averaged_quantiles_store_no_single_value():
    x = np.random.default_rng(0).lognormal(10, 1, 500).round(2)
    q = averaged_quantiles(x, guards_for(1, PrivacySettings(), None, None), 1000)
    assert not np.isin(np.round(q, 2), x).any()  # generic values: no stored point equals a row's value
    assert q[-1] < x.max() and q[0] > x.min()  # both ends clipped in
    assert len(q) == 100  # groups of 5 rows


def test_small_whole_numbers_pool_into_the_nearest_kept_value():
    frame = pd.DataFrame({"kids": [0] * 40 + [1] * 30 + [2] * 20 + [7] * 2})
    dataset = load_dataset(frame.to_csv(index=False).encode(), "kids.csv")
    encoder = TableEncoder().fit(dataset.typed(), dataset.schema, PrivacySettings())
    codec = encoder.codecs_["kids"]
    assert codec.values == ["0", "1", "2"] and codec.rare == []
    assert codec.codes(pd.Series(["7"])).tolist() == [2]


def test_coarse_range_rounds_outward():
    assert coarse_range(18, 90) == (10, 90)
    assert coarse_range(1200, 250_000) == (0, 300_000)
    assert coarse_range(5, 5) == (0, 10) and coarse_range(-7, -7) == (-10, 0)


def test_private_statistics_spend_their_share_and_keep_only_clear_categories(planted):
    schema, table, _ = planted
    ledger = PrivacyLedger(1e-5)
    encoder = TableEncoder().fit(table, schema, PrivacySettings(epsilon=1.0), ledger, np.random.default_rng(0))
    assert 0.09 <= ledger.epsilon() <= 0.1
    assert not any(v.startswith("CANARY") for v in encoder.codecs_["segment"].values)
    assert encoder.codecs_["income"].quantiles[-1] <= 1e6 * 10  # from the coarse range, not the canary


def _sparse_table() -> tuple:
    """A column with only three values (the rest missing), one with a single whole number, one empty."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": [987654.25] * 3 + [None] * 197, "kids": [7] + [None] * 199,
                          "empty": [None] * 200, "plan": rng.choice(["a", "b"], 200), "spend": rng.normal(50, 5, 200)})
    dataset = load_dataset(frame.to_csv(index=False).encode(), "sparse.csv")
    schema = dataset.schema
    for name in ("kids", "empty"):
        spec = schema.column(name)
        spec.kind = type(spec.kind)("whole_number")
        spec.handling = type(spec.handling)("synthesize")
    return dataset.typed(), schema


@pytest.mark.parametrize("privacy", [PrivacySettings(), PrivacySettings(epsilon=3.0)])
def test_columns_with_fewer_than_k_values_keep_none_of_them(privacy):
    table, schema = _sparse_table()
    model = registry.create("bayesnet" if privacy.private else "copula").fit(table, schema, seed=0, privacy=privacy)
    synthetic, content = model.sample(5000, seed=1), model.to_bytes()
    assert not (synthetic["amount"] == 987654.25).any() and struct.pack("<d", 987654.25) not in content
    assert b"987654.25" not in content
    if not privacy.private:  # (under DP whole numbers range over a public coarse range with noisy counts)
        assert not (synthetic["kids"] == 7).any()
