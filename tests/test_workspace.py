"""Projects on disk: saved, listed, reopened (with and without the original data) and deleted."""

import time

import pytest

from models import registry
from models.jobs import TrainedModel
from workspace.projects import Workspace


@pytest.fixture
def trained(mixed):
    train, _ = mixed.split(0.2, seed=3)
    model = registry.create("copula").fit(train, mixed.schema, seed=0)
    return TrainedModel("copula", "balanced", model, model.report_, time.time(), split_seed=3, real_rows=mixed.n_rows)


def test_project_round_trip_with_data(tmp_path, mixed, trained):
    ws = Workspace(tmp_path)
    project = ws.create_project(mixed, keep_data=True)
    ws.add_model(project, trained)
    opened = Workspace(tmp_path).open_project(project)  # as after a restart
    assert opened.problems == [] and opened.info.data_kept and opened.info.models == 1
    assert opened.dataset.name == mixed.name == "mixed"  # not the name of its last column
    assert opened.dataset.typed().equals(mixed.typed())
    assert opened.dataset.schema.to_json() == mixed.schema.to_json()
    again = opened.models[0]
    assert (again.model_id, again.split_seed, again.real_rows) == (trained.model_id, 3, mixed.n_rows)
    assert again.model.sample(20, seed=1).equals(trained.model.sample(20, seed=1))


def test_data_is_kept_only_with_consent(tmp_path, mixed, trained):
    ws = Workspace(tmp_path)
    project = ws.create_project(mixed)
    ws.add_model(project, trained)
    assert not (tmp_path / project / "data.parquet").exists()
    opened = ws.open_project(project)
    assert opened.dataset is None and len(opened.models) == 1  # models still generate without the data
    ws.keep_data(project, mixed)
    assert ws.open_project(project).dataset is not None
    ws.forget_data(project)
    assert not (tmp_path / project / "data.parquet").exists() and not ws.recent()[0].data_kept


def test_recent_lists_newest_first_with_best_quality_and_deletes(tmp_path, mixed, trained):
    from evaluation.scorecard import evaluate

    ws = Workspace(tmp_path)
    first = ws.create_project(mixed)
    second = ws.create_project(mixed)
    ws.add_model(first, trained)  # touching a project moves it to the top
    train, holdout = mixed.split(0.2, seed=3)
    ws.add_evaluation(trained.model_id, evaluate(train, trained.model.sample(len(train), seed=0), mixed.schema,
                                                 holdout))
    listed = ws.recent()
    assert [p.id for p in listed] == [first, second]
    assert listed[0].models == 1 and 0 < listed[0].best_quality <= 1
    assert ws.open_project(first).evaluations[trained.model_id].quality.quality == listed[0].best_quality
    path = ws.add_export(first, trained.model_id, "x_synthetic.csv", b"a,b\n1,2\n", 1, 0)
    assert path.read_bytes() == b"a,b\n1,2\n"
    ws.delete_project(first)
    assert [p.id for p in ws.recent()] == [second] and not (tmp_path / first).exists()


def test_damaged_model_file_is_reported_not_raised(tmp_path, mixed, trained):
    ws = Workspace(tmp_path)
    project = ws.create_project(mixed, keep_data=True)
    ws.add_model(project, trained)
    (tmp_path / project / "models" / f"{trained.model_id}.pt").write_bytes(b"not a model")
    opened = ws.open_project(project)
    assert opened.models == [] and "could not be read back" in opened.problems[0]


def test_reading_report_of_another_version_still_opens(tmp_path, mixed):
    import json

    ws = Workspace(tmp_path)
    project = ws.create_project(mixed, keep_data=True)
    path = tmp_path / project / "reading.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "field_from_another_version": [1]}))
    opened = Workspace(tmp_path).open_project(project)
    assert opened.problems == [] and opened.dataset.name == "mixed"


def test_looking_for_checkpoints_creates_no_folders(tmp_path, mixed):
    """Listing a project's interrupted trainings, or forgetting one after the project was deleted, makes no folder."""
    from workspace.trainings import unfinished

    ws = Workspace(tmp_path)
    project = ws.create_project(mixed)
    unfinished(ws, project)
    assert not (tmp_path / project / "trainings").exists()
    ws.delete_project(project)
    ws.checkpoint_path(project, "abc").unlink(missing_ok=True)
    assert not (tmp_path / project).exists()


def test_shaped_export_checks_come_back_and_old_catalogues_gain_the_column(tmp_path, mixed, trained):
    import sqlite3

    old = sqlite3.connect(tmp_path / "catalogue.sqlite3")  # a workspace from before shaped exports
    old.executescript("CREATE TABLE exports (id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL, "
                      "model TEXT, created REAL NOT NULL, file TEXT NOT NULL, rows INTEGER, copies_removed INTEGER);")
    old.close()
    ws = Workspace(tmp_path)
    project = ws.create_project(mixed)
    ws.add_model(project, trained)
    ws.add_export(project, trained.model_id, "plain.csv", b"a\n1\n", 1, 0)
    check = {"request": "plan = pro", "judged_on": "all", "groups": []}
    ws.add_export(project, trained.model_id, "shaped.csv", b"a\n1\n", 1, 0, [check])
    assert ws.open_project(project).shape_checks == {trained.model_id: [check]}
