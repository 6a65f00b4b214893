"""Scores on hand-made cases, equality with sdmetrics' own numbers, and the standalone report."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.privacy import privacy_scores, sdmetrics_dcr
from evaluation.quality import associations, band, quality_scores
from evaluation.report import html_report
from evaluation.scorecard import Evaluation, evaluate
from evaluation.sdmetrics_bridge import metadata_for, plain_frame, single_table_reports
from evaluation.utility import detection_auc, ml_usefulness, target_candidates
from tabular.dataset import load_dataset


def _table(n: int, seed: int) -> bytes:
    """Columns that depend on each other: income follows age, plan follows income, churn follows plan."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = np.round(age * 900 + rng.normal(0, 4000, n), 2)
    plan = np.where(income > 50_000, "pro", np.where(rng.random(n) < 0.3, "pro", "basic"))
    churn = np.where((plan == "basic") & (rng.random(n) < 0.7), "yes", "no")
    day = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    rows = ["age,income,plan,churn,joined"] + [
        f"{a},{i},{p},{c},{d:%Y-%m-%d}" for a, i, p, c, d in zip(age, income, plan, churn, day)]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def data():
    dataset = load_dataset(_table(1600, 0), "people.csv")
    train, holdout = dataset.split(0.25, seed=0)
    return dataset.schema, train, holdout


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every column permuted on its own: same column shapes, no relationships left."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame.columns})


def test_identical_data_scores_perfect_quality_and_fails_privacy(data):
    schema, train, holdout = data
    quality = quality_scores(train, train, schema)
    assert quality.quality == pytest.approx(1.0) and quality.band == "Excellent"
    privacy = privacy_scores(train, holdout, train, schema)
    assert privacy.exact_copies == 1.0
    # distances use a training sample as large as the holdout, so only that share of copies sits at distance 0
    assert privacy.dcr_share > 0.6 and privacy.distance_ratio < 0.8
    assert privacy.verdict == "team"


def test_shuffled_columns_keep_shapes_but_lose_trends_and_are_detected(data):
    schema, train, _ = data
    shuffled = _shuffled(train, 1)
    quality = quality_scores(train, shuffled, schema)
    assert quality.column_shapes == pytest.approx(1.0)
    assert quality.column_pair_trends < 0.9
    names, real_m, synth_m = associations(train, shuffled, schema)
    i, j = names.index("age"), names.index("income")
    assert real_m[i, j] > 0.5 and synth_m[i, j] < 0.2  # the strong age-income link is gone
    assert detection_auc(train, shuffled, schema) > 0.75


def test_new_real_rows_look_private_and_undetectable(data):
    schema, train, holdout = data
    fresh = load_dataset(_table(400, 7), "more.csv").typed()  # new people from the same population
    privacy = privacy_scores(train, holdout, fresh, schema)
    assert 0.4 < privacy.dcr_share < 0.6
    assert privacy.exact_copies == 0.0 and privacy.verdict == "external"
    assert 0.8 < privacy.distance_ratio < 1.25
    assert detection_auc(train, fresh, schema) < 0.65


def test_copied_rows_are_counted(data):
    schema, train, holdout = data
    fresh = load_dataset(_table(400, 9), "more.csv").typed()
    mixed = pd.concat([train.iloc[:100], fresh.iloc[:300]], ignore_index=True)
    privacy = privacy_scores(train, holdout, mixed, schema)
    assert privacy.exact_copies == pytest.approx(0.25)
    assert privacy.verdict == "team" and "copy a training row" in privacy.reasons[0]


def test_noise_lowers_quality_in_order(data):
    schema, train, _ = data
    rng = np.random.default_rng(3)
    scores = []
    for scale in (0.0, 0.2, 1.0):
        noisy = train.copy()
        noisy["income"] = noisy["income"] + rng.normal(0, scale * train["income"].std(), len(train))
        scores.append(quality_scores(train, noisy, schema).quality)
    assert scores[0] > scores[1] > scores[2]


def test_quality_equals_sdmetrics_own_report(data):
    schema, train, holdout = data
    ours = quality_scores(train, holdout, schema)
    report = single_table_reports()[0]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(plain_frame(train, schema), plain_frame(holdout, schema), metadata_for(schema), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    assert ours.quality == report.get_score()
    assert ours.column_shapes == props["Column Shapes"] and ours.column_pair_trends == props["Column Pair Trends"]
    details = report.get_details("Column Shapes").set_index("Column")["Score"]
    assert {c["column"]: c["score"] for c in ours.columns} == details.to_dict()


def test_dcr_overfitting_protection_equals_sdmetrics(data):
    from sdmetrics.single_table import DCROverfittingProtection

    schema, train, holdout = data
    synthetic = _shuffled(train, 2)
    ours = sdmetrics_dcr(train, synthetic, holdout, schema, rows=300, seed=4)
    frames = [plain_frame(f.sample(300, random_state=4), schema).reset_index(drop=True)
              for f in (train, synthetic, holdout)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = DCROverfittingProtection.compute(frames[0], frames[1], frames[2], metadata_for(schema), None)
    assert ours == pytest.approx(theirs)


def test_ml_usefulness_ratio(data):
    schema, train, holdout = data
    assert target_candidates(schema)[0] == "churn"  # yes/no columns come first
    same = ml_usefulness(train, holdout, train, schema, "churn")
    assert same.ratio == pytest.approx(1.0) and same.real_score > 0.6
    broken = ml_usefulness(train, holdout, _shuffled(train, 5), schema, "churn")
    assert broken.ratio < 0.9
    regression = ml_usefulness(train, holdout, train, schema, "income")
    assert regression.task == "regression" and regression.real_score > 0.5


@pytest.mark.parametrize("score, name", [(0.95, "Excellent"), (0.9, "Excellent"), (0.85, "Good"), (0.75, "Fair"),
                                         (0.2, "Poor")])
def test_bands(score, name):
    assert band(score)[0] == name


def test_evaluation_round_trips_and_reports(data):
    schema, train, holdout = data
    steps = []
    result = evaluate(train, _shuffled(train, 6), schema, holdout, on_step=lambda *a: steps.append(a))
    assert [s[0] for s in steps] == [0, 1, 2, 3, 4, 5]
    again = Evaluation.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.summary() == result.summary()
    keys = {"quality", "column_shapes", "column_pair_trends", "detection_auc", "exact_copies", "dcr_share",
            "dcr_overfitting_protection"}
    assert keys <= set(result.summary())
    page = html_report(result, train, _shuffled(train, 6), schema, "People <test>")
    assert page.startswith("<!doctype html>") and "People &lt;test&gt;" in page
    assert "Plotly.newPlot" in page and 'src="http' not in page  # plotly.js inline: works offline
    assert "Privacy" in page and result.quality.band in page


def test_evaluation_without_holdout_skips_privacy(data):
    schema, train, _ = data
    result = evaluate(train, train, schema)
    assert result.privacy is None and result.usefulness is None
    assert any("No held-out" in n for n in result.notes)
