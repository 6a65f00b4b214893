"""AppTest checks of the Evaluate and Export steps and of reopening a saved project."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from models import registry
from models.jobs import TrainedModel
from tabular.dataset import load_dataset
from tests.conftest import mixed_csv

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def project():
    dataset = load_dataset(mixed_csv(300), "shop.csv")
    train, _ = dataset.split(0.2, seed=0)
    model = registry.create("copula").fit(train, dataset.schema, seed=0)
    trained = TrainedModel("copula", "balanced", model, model.report_, time.time(), real_rows=dataset.n_rows)
    return dataset, trained


def _app(page: str, dataset=None, trained=None, **extra) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["dataset"] = dataset
    if trained is not None:
        at.session_state["model"] = trained
        at.session_state["models"] = {trained.model_id: trained}
    for key, value in extra.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    return at


def _finish(at: AppTest, key: str) -> AppTest:
    task = at.session_state[key]
    assert task.finished.wait(120), "the background task did not finish"
    return at.run()


def test_evaluate_scores_in_background_then_shows_verdicts(project):
    dataset, trained = project
    at = _app("pages/evaluate.py", dataset, trained, evaluations={})
    assert not at.exception
    at = _finish(at, "eval_task")
    assert not at.exception and not at.error
    headline = " ".join(m.value for m in at.markdown)
    assert "Quality" in headline and "/ 100" in headline
    evaluation = at.session_state["evaluations"][trained.model_id]
    assert 0 < evaluation.quality.quality <= 1 and evaluation.privacy is not None
    assert any("Privacy:" in box.value for box in [*at.success, *at.warning, *at.error])
    assert [t.label for t in at.tabs][:5] == ["Column shapes", "Pair trends", "Detection & ML usefulness", "Privacy",
                                              "Validity"]
    assert at.selectbox(key="eval_column").options[0] == evaluation.quality.columns[0]["column"]  # worst first
    metrics = {m.label: m.value for m in at.metric}
    u = evaluation.usefulness  # both ML scores, never a ratio
    assert metrics["Trained on real rows"] == f"{u.real_score:.2f}"
    assert metrics["Trained on synthetic rows"] == f"{u.synthetic_score:.2f}"
    assert evaluation.sampling and evaluation.sampling_text in [c.value for c in at.caption]  # 60 holdout rows
    m = evaluation.membership  # who was in the training data: in the headline, with its figures under Privacy
    assert any(m.sentence in x.value and "Who was in the training data?" in x.value for x in at.markdown)
    assert metrics["Attack ROC AUC"] == f"{m.auc:.2f}" and m.rows == 60
    weakest = min((p for p in evaluation.quality.pairs if p["score"] is not None), key=lambda p: p["score"])
    hint = next(m.value for m in at.markdown if "reproduced least well" in m.value)
    assert f"{weakest['column_1']} × {weakest['column_2']}" in hint


def test_evaluate_explains_when_the_project_has_no_data(project):
    _, trained = project
    at = _app("pages/evaluate.py", None, trained, project="p1")
    assert not at.exception
    assert any("without its original table" in i.value for i in at.info)


def test_export_generates_and_offers_download(project):
    dataset, trained = project
    at = _app("pages/export.py", dataset, trained)
    assert at.number_input(key="export_rows").value == 300  # as many rows as the real table
    at.number_input(key="export_rows").set_value(120)
    at.selectbox(key="export_format").set_value("Parquet")
    at.button(key="export_generate").click().run()
    at = _finish(at, "export_task")
    assert not at.exception and not at.error
    assert any("Made **120** synthetic rows" in s.value for s in at.success)
    result, content, made_as, plan, checks = at.session_state["export_task"].result
    assert not plan.shaped and checks == []
    assert made_as == "Parquet" and content[:4] == b"PAR1" and len(result.frame) == 120
    assert "note" in result.frame.columns and result.frame["customer_id"].is_unique


def test_export_from_an_uploaded_model_file_without_data(project):
    _, trained = project
    at = _app("pages/export.py")
    assert any("model file saved earlier" in i.value for i in at.info)
    at.file_uploader(key="export_model_upload").upload("model.pt", trained.model.to_bytes(),
                                                      "application/octet-stream").run()
    assert not at.exception
    assert at.session_state["model"].preset == "from file"
    assert at.checkbox(key="export_drop_copies_off").disabled  # no real rows to compare with
    assert not at.checkbox(key="export_drop_copies_off").value


def test_export_rejects_a_file_that_is_not_a_model():
    at = _app("pages/export.py")
    at.file_uploader(key="export_model_upload").upload("model.pt", b"junk" * 100, "application/octet-stream").run()
    assert not at.exception
    assert any("not a model file" in e.value for e in at.error)


def test_reopen_a_saved_project(project):
    from workspace.projects import Workspace

    dataset, trained = project
    workspace = Workspace()
    project_id = workspace.create_project(dataset, keep_data=True)
    workspace.add_model(project_id, trained)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Recent projects" in m.value for m in at.markdown)
    at.button(key=f"data_open_{project_id}").click().run()
    assert not at.exception
    assert at.session_state["project"] == project_id and at.session_state["dataset"].n_rows == 300
    assert at.session_state["model"].model_id == trained.model_id


def test_leaderboard_compares_generators_and_switches_the_one_in_use(project):
    from evaluation.scorecard import evaluate

    dataset, first = project
    train, holdout = dataset.split(0.2, seed=0)
    model = registry.create("vae", "fast", epochs=2).fit(train, dataset.schema, seed=0)
    second = TrainedModel("vae", "fast", model, model.report_, time.time(), real_rows=dataset.n_rows)
    scores = {m.model_id: evaluate(train, m.model.sample(len(train), seed=0), dataset.schema, holdout)
              for m in (first, second)}
    at = _app("pages/evaluate.py", dataset, second, models={first.model_id: first, second.model_id: second},
              evaluations=scores)
    assert not at.exception
    board = next(df.value for df in at.dataframe if "Generator" in df.value.columns)
    assert len(board) == 2 and set(board["Generator"]) == {"Gaussian copula (balanced)",
                                                          "Variational autoencoder (TVAE) (fast)"}
    assert list(board["Quality"]) == sorted(board["Quality"], reverse=True)  # best first
    assert scores[first.model_id].quality.quality > scores[second.model_id].quality.quality + 0.02
    assert any("scored higher" in i.value for i in at.info)  # the two-epoch VAE's page points to the copula
    at.selectbox(key="eval_pick_model").set_value(first.model_id).run()
    assert at.session_state["model"].model_id == first.model_id



def test_export_rebalances_with_the_mix_editor_and_evaluate_shows_the_check(project):
    dataset, trained = project
    at = _app("pages/export.py", dataset, trained)
    at.radio(key="export_mode").set_value("rebalance").run()
    assert at.selectbox(key="export_mix_column").value == "active"  # yes/no columns come first
    at.button(key="export_mix_active_equal").click().run()
    assert [n.value for n in at.number_input if n.key.startswith("export_mix_active_")] == [50, 50]
    at.number_input(key="export_rows").set_value(200)
    at.button(key="export_generate").click().run()
    at = _finish(at, "export_task")
    assert not at.exception and not at.error
    result, _, _, plan, checks = at.session_state["export_task"].result
    assert result.frame["active"].value_counts().tolist() == [100, 100]
    assert [g["words"] for g in checks[0]["groups"]] == ["active = Yes", "active = No"]
    assert any("the other columns match" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 2  # the mix editor's chart and the before/after chart
    at.switch_page("pages/evaluate.py").run()
    at = _finish(at, "eval_task").run()
    assert not at.exception
    assert "Shaped exports (1)" in [t.label for t in at.tabs]
    assert any("mix of active" in m.value for m in at.markdown)


def _rows_of_a_kind(project):
    """The Export step with "Only rows of a certain kind" chosen."""
    at = _app("pages/export.py", *project)
    at.radio(key="export_mode").set_value("only").run()
    return at


def _rule(at, i: int, column: str, op: str) -> None:
    at.selectbox(key=f"export_only_col_{i}").set_value(column).run()
    at.selectbox(key=f"export_only_{i}_op_{column}").set_value(op).run()


def test_a_date_rule_starts_in_the_middle_of_the_dates(project):
    trained = project[1]
    at = _rows_of_a_kind(project)
    _rule(at, 0, "joined", "at least")
    assert not at.exception
    low, high = (d.date() for d in trained.model.encoder_.codecs_["joined"].from_uniform(np.array([0.0, 1.0])))
    day = at.date_input(key="export_only_0_joined_at least").value
    assert low < day < high and abs((day - low) - (high - day)).days <= 1  # not the first date: that keeps every row
    from ui.shape_view import middle_day

    assert str(middle_day(pd.Timestamp("2019-01-01"), pd.Timestamp("2024-12-31"))) == "2021-12-31"  # an odd span


def test_export_rows_of_a_kind_and_a_plain_refusal(project):
    at = _rows_of_a_kind(project)
    at.selectbox(key="export_only_col_0").set_value("plan").run()
    at.selectbox(key="export_only_0_val_plan").set_value("enterprise").run()
    at.button(key="export_only_more").click().run()
    _rule(at, 1, "spend", "at least")
    at.number_input(key="export_only_1_spend_at least").set_value(30.0).run()
    at.number_input(key="export_rows").set_value(150)
    at.button(key="export_generate").click().run()
    at = _finish(at, "export_task")
    assert not at.exception and not at.error
    frame = at.session_state["export_task"].result[0].frame
    assert len(frame) == 150 and (frame["plan"] == "enterprise").all() and (frame["spend"] >= 30).all()
    at.radio(key="export_mode").set_value("augment").run()
    assert any("contains your real rows" in w.value for w in at.warning)
