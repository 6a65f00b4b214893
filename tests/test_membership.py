"""The membership test: an attacker holding the synthetic data tries to tell training rows from unseen ones."""

import json

import numpy as np
import pandas as pd
import pytest

from evaluation import membership
from evaluation.membership import VERDICTS, MembershipResult, membership_risk, verdict
from evaluation.report import html_report
from evaluation.scorecard import Evaluation, EvaluationSettings, evaluate
from models.compute import worker_thread_limit
from tabular.dataset import load_dataset


def _people(n: int, seed: int) -> bytes:
    """Related columns: income follows age, plan follows income, visits follow plan."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = np.round(age * 800 + rng.normal(0, 9000, n), 2)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    plan = np.where(income > 50_000, rng.choice(["pro", "basic"], n, p=[0.8, 0.2]),
                    rng.choice(["pro", "basic"], n, p=[0.2, 0.8]))
    visits = rng.poisson(3 + 2 * (plan == "pro"))
    score = np.round(rng.normal(600, 80, n) + 0.001 * income, 1)
    frame = pd.DataFrame(dict(age=age, income=income, region=region, plan=plan, visits=visits, score=score))
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def data():
    dataset = load_dataset(_people(3000, 0), "people.csv")
    train, holdout = dataset.split(0.3, seed=0)
    return dataset.schema, train, holdout


def _copier(train: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """An overfitting 'generator': the training rows themselves, with tiny noise on the decimals."""
    rng = np.random.default_rng(seed)
    out = train.copy()
    for name in ("income", "score"):
        out[name] = out[name] + rng.normal(0, 0.01, len(out))
    return out.sample(frac=1, random_state=seed).reset_index(drop=True)


def _independent(train: pd.DataFrame, n: int, seed: int = 2) -> pd.DataFrame:
    """A 'generator' that draws each column on its own: normal numbers, categories by their shares."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in train.columns:
        values = train[name]
        if name in ("income", "score"):
            out[name] = np.round(rng.normal(values.mean(), values.std(), n), 1)
        elif name in ("age", "visits"):
            out[name] = np.clip(np.round(rng.normal(values.mean(), values.std(), n)), values.min(), values.max())
        else:
            shares = values.value_counts(normalize=True)
            out[name] = rng.choice(shares.index.to_numpy(), n, p=shares.to_numpy())
    return pd.DataFrame(out).astype({name: train[name].dtype for name in train.columns})


def test_a_generator_copying_its_training_rows_is_caught(data):
    schema, train, holdout = data
    result = membership_risk(train, holdout, _copier(train), schema)
    assert result.auc > 0.8 and result.tpr_at_1 > 0.5 and result.tpr_at_10 >= result.tpr_at_1
    assert result.verdict == "often" and result.sentence.startswith(VERDICTS["often"])
    assert "memorising" in result.sentence and "fewer epochs" in result.sentence
    assert result.findings()[0][0] == 2


def test_a_generator_of_independent_columns_is_as_good_as_guessing(data):
    schema, train, holdout = data
    result = membership_risk(train, holdout, _independent(train, len(train)), schema)
    assert 0.45 <= result.auc <= 0.58, result.aucs
    assert result.auc == max(result.aucs.values()) and set(result.aucs) == {"closest", "ratio"}  # the stronger
    assert result.verdict == "guessing" and result.findings() == []
    assert result.sentence.startswith("An attacker could not tell who was in the training data (as good as guessing).")


def test_members_and_non_members_are_equal_in_number(data, monkeypatch):
    schema, train, holdout = data
    seen = []
    real_scores = membership.attack_scores

    def spy(members, others, synthetic, fmap):
        seen.append((len(members), len(others), len(synthetic)))
        return real_scores(members, others, synthetic, fmap)

    monkeypatch.setattr(membership, "attack_scores", spy)
    bounded = membership_risk(train, holdout, train, schema)  # the holdout's 900 rows bound both sides
    capped = membership_risk(train, holdout, train, schema, rows=300, synthetic_rows=500)
    assert seen == [(len(holdout), len(holdout), len(train)), (300, 300, 500)]
    assert (bounded.rows, capped.rows) == (len(holdout), 300)
    assert membership_risk(train, holdout.head(5), train, schema) is None  # too few unseen rows to say anything


def test_same_seed_same_result(data):
    schema, train, holdout = data
    synthetic = _independent(train, 1000)
    assert membership_risk(train, holdout, synthetic, schema) == membership_risk(train, holdout, synthetic, schema)


def test_an_unseen_row_is_never_its_own_neighbour(data):
    schema, train, holdout = data
    fmap = membership.FeatureMap(schema).fit(train)
    scores = membership.attack_scores(train.head(200), holdout.head(200), _independent(train, 500), fmap)
    ratio = -scores["ratio"]
    assert np.isfinite(ratio).all() and ratio[200:].max() < 1e3  # a zero distance to itself would explode it


@pytest.mark.parametrize("auc, rows, key", [(0.5, 2000, "guessing"), (0.55, 2000, "guessing"),
                                            (0.57, 2000, "slight"), (0.60, 2000, "slight"), (0.61, 2000, "often"),
                                            (0.95, 2000, "often"), (0.57, 40, "guessing"), (0.9, 40, "often")])
def test_verdict_by_auc_and_only_when_clearly_above_chance(auc, rows, key):
    assert verdict(auc, rows) == key
    result = MembershipResult(auc=auc, attacker="closest", tpr_at_1=0.02, tpr_at_10=0.12, rows=rows, verdict=key)
    assert result.sentence.startswith(VERDICTS[key]) and f"ROC AUC {auc:.2f}" in result.sentence
    assert ("rough" in result.sentence) == (rows < 200)
    assert [level for level, _ in result.findings()] == {"guessing": [], "slight": [1], "often": [2]}[key]


def test_verdict_sentences_in_plain_words():
    assert VERDICTS["guessing"] == "An attacker could not tell who was in the training data (as good as guessing)."
    assert "slightly better than guessing" in VERDICTS["slight"]
    assert VERDICTS["often"].startswith("An attacker could often tell who was in the training data")


def test_evaluate_reports_it_and_old_evaluations_still_load(data):
    schema, train, holdout = data
    with worker_thread_limit(1):  # small classifiers on one thread: the test is about the membership part
        result = evaluate(train, _copier(train), schema, holdout, settings=EvaluationSettings(
            detection_rows=200, ml_rows=200))
    m = result.membership
    assert m is not None and m.verdict == "often" and result.privacy.verdict == "team"
    assert any("attacker" in reason for reason in result.privacy.reasons)
    summary = result.summary()
    assert summary["membership_auc"] == m.auc and summary["membership_verdict"] == m.sentence
    assert summary["membership_tpr_at_1pct_fpr"] == m.tpr_at_1
    again = Evaluation.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.membership == m and again.summary() == summary
    page = html_report(result, train, train, schema)
    assert "Could an attacker tell who was in the training data?" in page and m.sentence.split(":")[0] in page
    saved = result.to_dict()
    del saved["membership"]  # as versions before the membership test stored it
    old = Evaluation.from_dict(json.loads(json.dumps(saved)))
    assert old.membership is None and old.summary()["membership_auc"] is None
    assert "Not measured" in html_report(old, train, train, schema)
