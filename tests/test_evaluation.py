"""Scores on hand-made cases, equality with sdmetrics' own numbers, and the standalone report."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sdmetrics.reports.single_table._properties import ColumnPairTrends

from evaluation.pair_trends import FastColumnPairTrends
from evaluation.privacy import privacy_scores, sdmetrics_dcr
from evaluation.quality import associations, band, quality_scores
from evaluation.report import html_report
from evaluation.scorecard import Evaluation, EvaluationSettings, evaluate
from evaluation.sdmetrics_bridge import metadata_for, plain_frame, single_table_reports
from evaluation.utility import UsefulnessResult, detection_auc, ml_usefulness, target_candidates
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


@pytest.fixture(scope="module")
def evaluated(data):
    """One evaluation with default settings, and the progress steps it reported."""
    schema, train, holdout = data
    steps = []
    result = evaluate(train, _shuffled(train, 6), schema, holdout, on_step=lambda *a: steps.append(a))
    return result, steps


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
    # pair trends come from our vectorised code: equal up to the order floats are summed in
    assert ours.quality == pytest.approx(report.get_score(), abs=1e-12)
    assert ours.column_shapes == props["Column Shapes"]
    assert ours.column_pair_trends == pytest.approx(props["Column Pair Trends"], abs=1e-12)
    details = report.get_details("Column Shapes").set_index("Column")["Score"]
    assert {c["column"]: c["score"] for c in ours.columns} == details.to_dict()


def test_dcr_overfitting_protection_equals_sdmetrics(data):
    from sdmetrics.single_table import DCROverfittingProtection

    schema, train, holdout = data
    synthetic = pd.concat([train.iloc[:150], _shuffled(train, 2).iloc[:150]], ignore_index=True)  # half copies
    synthetic.loc[:20, "income"] = np.nan  # missing on one side only counts 1
    synthetic.loc[21:40, "plan"] = None
    synthetic.loc[41:50, "income"] = 1e7  # far outside the real range: capped at 1
    frames = [train, synthetic, holdout]  # every training row, so the copies find their originals
    ours = sdmetrics_dcr(*frames, schema)
    plain = [plain_frame(f, schema).reset_index(drop=True) for f in frames]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = DCROverfittingProtection.compute(plain[0], plain[1], plain[2], metadata_for(schema), None)
    assert theirs < 0.9  # the copies are closer to the training rows: a case that can fail
    assert ours == pytest.approx(theirs, abs=1e-12)


def _sdmetrics_pairs(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict, fast: bool):
    prop = FastColumnPairTrends() if fast else ColumnPairTrends()
    prop.real_correlation_threshold, prop.real_association_threshold = 0.5, 0.3  # QualityReport's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = prop.get_score(real.copy(), synthetic.copy(), metadata)
    return score, prop.details.set_index(["Column 1", "Column 2"])


def test_pair_trends_equal_sdmetrics_own_loop(data):
    schema, train, holdout = data
    real, synthetic = plain_frame(train, schema), plain_frame(_shuffled(holdout, 3), schema)
    synthetic["income"] = synthetic["income"] * 0.5 + real["income"].iloc[:len(synthetic)].to_numpy() * 0.5
    real.loc[real.index[:40], "income"] = np.nan  # pairs use the rows where both are present
    synthetic.loc[synthetic.index[:25], "plan"] = None
    real["flag"] = np.where(real["age"] > 50, True, False).astype(object)  # boolean, tied to age
    synthetic["flag"] = np.where(synthetic["age"] > 30, True, False).astype(object)
    real["same"], synthetic["same"] = 1.0, 1.0  # constant: sdmetrics scores no pair with it
    metadata = metadata_for(schema)
    metadata["columns"].update(flag={"sdtype": "boolean"}, same={"sdtype": "numerical"})
    theirs, their_details = _sdmetrics_pairs(real, synthetic, metadata, fast=False)
    ours, our_details = _sdmetrics_pairs(real, synthetic, metadata, fast=True)
    assert ours == pytest.approx(theirs, abs=1e-12) and 0.3 < ours < 0.99
    both = their_details.join(our_details, lsuffix="_sd", rsuffix="_ours")
    assert len(both) == len(their_details) == len(our_details) == 21
    for column in ("Score", "Real Correlation", "Synthetic Correlation", "Real Association"):
        assert np.allclose(both[column + "_sd"], both[column + "_ours"], equal_nan=True, atol=1e-12), column
    assert (both["Meets Threshold?_sd"].fillna(False) == both["Meets Threshold?_ours"].fillna(False)).all()
    assert (both["Metric_sd"] == both["Metric_ours"]).all()


def test_ml_usefulness_shows_both_scores_and_never_more_than_all(data):
    schema, train, holdout = data
    assert target_candidates(schema)[0] == "churn"  # yes/no columns come first
    same = ml_usefulness(train, holdout, train, schema, "churn")
    assert same.share == pytest.approx(1.0) and same.real_score > 0.6 and not same.real_is_weak
    assert same.real_score > same.baseline
    broken = ml_usefulness(train, holdout, _shuffled(train, 5), schema, "churn")
    assert broken.share < 0.9 and f"{broken.real_score:.2f}" in broken.summary
    assert f"{broken.synthetic_score:.2f}" in broken.summary
    regression = ml_usefulness(train, holdout, train, schema, "income")
    assert regression.task == "regression" and regression.real_score > 0.5 and regression.baseline == 0.0
    better = UsefulnessResult("income", "regression", "R²", real_score=0.5, synthetic_score=0.75, baseline=0.0)
    assert better.share == 1.0  # synthetic-trained scoring higher is never shown as more than 100%


def test_unpredictable_target_is_called_weak(data):
    schema, train, holdout = data
    joined = ml_usefulness(train, holdout, _shuffled(train, 8), schema, "joined")  # dates drawn at random
    assert joined.real_is_weak and joined.share is None
    assert "cannot be predicted well even from the real data" in joined.summary


def test_old_saved_evaluation_loads(data, evaluated):
    schema, train, _ = data
    saved = evaluated[0].to_dict()
    saved["usefulness"] = {"target": "income", "task": "regression", "metric": "R²", "real_score": 0.02,
                           "synthetic_score": 0.03, "ratio": 1.5}  # as the app stored it before
    del saved["sampling"]
    old = Evaluation.from_dict(json.loads(json.dumps(saved)))
    assert old.sampling == [] and old.sampling_text == ""
    assert old.usefulness.real_is_weak and old.summary()["ml_usefulness"] is None
    assert "cannot be predicted well" in html_report(old, train, train, schema)


def test_sampled_checks_are_recorded_and_said(data, evaluated):
    schema, train, holdout = data
    settings = EvaluationSettings(quality_rows=500, detection_rows=300, privacy_rows=200, ml_rows=400)
    result = evaluate(train, train, schema, holdout, settings=settings)
    used = {s["check"]: (s["rows"], s["of"]) for s in result.sampling}
    assert used["quality and validity"] == (500, len(train)) and used["detection"] == (300, len(train))
    assert used["distances to real rows"] == (200, len(train)) and result.sampled
    assert f"quality and validity on 500 of {len(train):,} rows" in result.sampling_text
    assert result.sampling_text in html_report(result, train, train, schema)
    full = evaluated[0]  # default settings: only the distances and the membership test are capped, by the holdout
    assert full.sampling == [{"check": "distances to real rows", "rows": 400, "of": len(train)},
                             {"check": "membership test (per side)", "rows": 400, "of": len(train)}]


@pytest.mark.parametrize("score, name", [(0.95, "Excellent"), (0.9, "Excellent"), (0.85, "Good"), (0.75, "Fair"),
                                         (0.2, "Poor")])
def test_bands(score, name):
    assert band(score)[0] == name


def test_evaluation_round_trips_and_reports(data, evaluated):
    schema, train, _ = data
    result, steps = evaluated
    assert [s[0] for s in steps] == [0, 1, 2, 3, 4, 5]
    assert "'churn'" in steps[3][2]  # the step names the column the models predict
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
