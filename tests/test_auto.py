"""The automatic pick: races candidates within a budget, keeps the best judged one, keeps the others to open."""

import pandas as pd
import pytest

from models import registry
from models.base import Generator, ModelError
from models.jobs import TrainingJob, TrainingRequest, split_rows, train_model
from models.training import TrainingControl, TrainingOptions, TrainingStopped
from tabular.privacy import PrivacySettings
from workspace.projects import Workspace
from workspace.trainings import ProjectTrainings

QUICK = ("copula", "bayesnet")


@pytest.fixture(scope="module")
def raced(mixed):
    rows = split_rows(mixed, 0.2, seed=0)
    events = []
    request = TrainingRequest("auto", "fast", {"candidates": QUICK}, budget_seconds=60)
    return train_model(request, rows, mixed.schema, on_progress=events.append), events


def test_the_pick_is_the_best_judged_candidate_and_says_why(raced):
    result, events = raced
    entries = result.race["entries"]
    assert [e["generator"] for e in entries] == list(QUICK)
    best = max(entries, key=lambda e: e["score"])
    assert result.generator == best["generator"] and result.model.name == best["generator"]
    assert 0.3 < best["score"] <= 1
    title = registry.card(best["generator"]).title
    assert result.race["explanation"].startswith(f"Picked {title}") and "budget" in result.race["explanation"]
    assert events[-1].message == result.race["explanation"]


def test_runners_up_are_kept_trained_and_can_be_opened(raced, mixed):
    result, _ = raced
    assert [r.generator for r in result.runners_up] == [g for g in QUICK if g != result.generator]
    ids = {e["generator"]: e["model_id"] for e in result.race["entries"]}
    assert ids[result.generator] == result.model_id
    for runner in result.runners_up:
        assert ids[runner.generator] == runner.model_id != result.model_id
        assert len(runner.model.sample(20, seed=0)) == 20
    times = [r.finished_at for r in result.runners_up] + [result.finished_at]
    assert times == sorted(set(times))  # each its own time, in race order, the pick newest (reopened: used)


def test_the_race_is_drawn_live_one_line_per_candidate(raced):
    _, events = raced
    assert {e.candidate for e in events} == set(QUICK)
    elapsed = [e.elapsed for e in events]
    assert elapsed == sorted(elapsed)  # one clock for the whole race, not each candidate's own
    judged = {e.candidate: e.judged for e in events if e.judged is not None}
    scores = {e["generator"]: e["score"] for e in raced[0].race["entries"]}
    assert judged == scores  # every candidate ends with its judged score on the chart


def test_each_candidate_gets_a_share_of_the_budget_and_later_ones_are_skipped_when_none_is_left(mixed, monkeypatch):
    auto = registry.create("auto", "fast", candidates=("vae", "copula"))
    rows = split_rows(mixed, 0.2, seed=0)
    settings = {"epochs": 100_000, "batch_size": 20}  # far more than fits in the budget
    original = registry.create

    def slow_vae(name, preset="balanced", **overrides):
        return original(name, preset, **(settings if name == "vae" else overrides))

    monkeypatch.setattr(registry, "create", slow_vae)
    budget = 10.0
    auto.fit(rows.fit, mixed.schema, validation=rows.validation, options=TrainingOptions(budget_seconds=budget))
    vae, copula = auto.race_
    assert vae.model is not None, vae.note
    assert vae.model.report_.stop_reason == "budget"
    assert vae.model.report_.seconds <= budget / 2  # its equal share, less the time kept for judging it
    assert copula.score is not None  # the time the VAE did not use went to the next candidate
    assert auto.seconds_ <= budget * 1.1 + 1  # the whole race keeps to its budget (the benchmark allows 10%)


def test_a_budget_too_small_for_any_candidate_says_so(mixed):
    auto = registry.create("auto", "fast", candidates=QUICK)
    with pytest.raises(TrainingStopped, match="too short for 2 generators to learn anything. Allow at least 8 s"):
        auto.fit(mixed.typed(), mixed.schema, options=TrainingOptions(budget_seconds=2))


def test_cancel_keeps_what_was_judged(mixed):
    control, seen = TrainingControl(), []

    def on_progress(event):
        seen.append(event.candidate)
        if event.candidate == "bayesnet":
            control.cancel()

    auto = registry.create("auto", "fast", candidates=("copula", "bayesnet", "vae"))
    auto.fit(mixed.typed(), mixed.schema, on_progress=on_progress, control=control)
    copula, bayesnet = auto.race_  # the VAE never started
    assert copula.score is not None and bayesnet.score is None and "cancelled" in bayesnet.note  # not judged half-done
    assert auto.picked is copula.model and auto.report_.stop_reason == "cancelled" and len(auto.sample(10)) == 10


def test_a_candidate_that_breaks_is_noted_and_the_race_goes_on(mixed, monkeypatch):
    original = registry.create

    def broken_vae(name, preset="balanced", **overrides):
        model = original(name, preset, **overrides)
        if name == "vae":
            model._fit = lambda data, session: 1 / 0
        return model

    monkeypatch.setattr(registry, "create", broken_vae)
    auto = registry.create("auto", "fast", candidates=("vae", "copula")).fit(mixed.typed(), mixed.schema)
    vae, copula = auto.race_
    assert vae.note == "Failed unexpectedly (ZeroDivisionError: division by zero)." and vae.model is None
    assert auto.picked is copula.model


def test_a_race_whose_owner_left_keeps_the_candidates_that_finished(mixed):
    request = TrainingRequest("auto", "fast", {"candidates": ("copula", "bayesnet")}, budget_seconds=60)
    job = TrainingJob(request, split_rows(mixed, 0.2, seed=0), mixed.schema)
    record = job._record

    def owner_gone_after_the_first(event):  # what TrainingQueue's watch does when the tab stays closed
        record(event)
        if event.judged is not None:
            job.paused = True
            job.cancel()

    job._record = owner_gone_after_the_first
    job.run()
    assert job.state == "cancelled" and job.result is not None  # a race cannot resume: nothing thrown away
    assert job.result.generator == "copula" and job.result.race["stopped"] == "cancelled"


def test_saved_race_loads_as_its_pick(mixed, tmp_path):
    auto = registry.create("auto", "fast", candidates=QUICK).fit(mixed.typed(), mixed.schema)
    path = tmp_path / "auto.pt"
    auto.save(path)
    again = Generator.load(path)
    assert again.name == auto.picked.name != "auto"
    pd.testing.assert_frame_equal(again.sample(30, seed=2), auto.sample(30, seed=2))


def test_no_differential_privacy_in_a_race(mixed):
    auto = registry.create("auto", "fast", candidates=QUICK)
    with pytest.raises(ModelError, match="differential privacy"):
        auto.fit(mixed.typed(), mixed.schema, privacy=PrivacySettings(epsilon=3.0))


def test_a_project_keeps_every_candidate_with_the_pick_as_the_newest(mixed, tmp_path):
    workspace = Workspace(tmp_path)
    project = workspace.create_project(mixed)
    request = TrainingRequest("auto", "fast", {"candidates": QUICK}, budget_seconds=60)
    job = TrainingJob(request, split_rows(mixed, 0.2, seed=0), mixed.schema,
                      store=ProjectTrainings(workspace, project), project=project)
    job.run()
    assert job.state == "done"
    opened = workspace.open_project(project)
    assert sorted(m.generator for m in opened.models) == sorted(QUICK)
    assert opened.models[-1].model_id == job.result.model_id  # reopened, the pick is the model in use
    assert opened.models[-1].race["explanation"] == job.result.race["explanation"]


def test_measured_figures_are_read_from_the_benchmark_file(tmp_path):
    path = tmp_path / "pick.json"
    path.write_text('{"command": "python bench/family.py", "generators": [{"generator": "copula", '
                    '"quality_median": 0.9, "datasets": 5}]}')
    figures = registry.measured(path)
    assert figures["copula"]["quality_median"] == 0.9 and registry.measured_with(path) == "python bench/family.py"
    assert registry.measured(tmp_path / "missing.json") == {}
    path.write_text("not json")
    assert registry.measured(path) == {}
