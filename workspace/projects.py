"""Projects on disk: a folder per project plus a SQLite catalogue, so nothing is lost on refresh or restart."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tabular.dataset import Dataset
from tabular.io import ReadReport
from tabular.schema import TableSchema

if TYPE_CHECKING:  # heavy (torch, scikit-learn): imported only when a project is opened or saved
    from evaluation.scorecard import Evaluation
    from models.jobs import TrainedModel

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "workspace_data"
PROJECT_ID = re.compile(r"[0-9a-f]{12}")  # as create_project makes them; anything else names no project
SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    rows INTEGER, columns INTEGER, data_kept INTEGER NOT NULL DEFAULT 0, schema TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY, project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    generator TEXT NOT NULL, preset TEXT, created REAL NOT NULL, file TEXT NOT NULL, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    model TEXT PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE, created REAL NOT NULL, scores TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    model TEXT, created REAL NOT NULL, file TEXT NOT NULL, rows INTEGER, copies_removed INTEGER, shape TEXT);
CREATE TABLE IF NOT EXISTS trainings (
    id TEXT PRIMARY KEY, project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    request TEXT NOT NULL, schema TEXT NOT NULL, state TEXT NOT NULL, started REAL NOT NULL, updated REAL NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0, epochs INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '');
"""


@dataclass
class ProjectInfo:
    """One line of the Recent projects list."""

    id: str
    name: str
    created: float
    updated: float
    rows: int
    columns: int
    data_kept: bool
    models: int = 0
    best_quality: float | None = None


@dataclass
class OpenedProject:
    """Everything a project holds, ready for the app."""

    info: ProjectInfo
    schema: TableSchema
    dataset: Dataset | None  # None when the original data was not kept
    models: list[TrainedModel] = field(default_factory=list)  # oldest first
    evaluations: dict[str, Evaluation] = field(default_factory=dict)  # by model id
    problems: list[str] = field(default_factory=list)  # files that could not be read back
    shape_checks: dict[str, list[dict]] = field(default_factory=dict)  # by model id: shaped exports' checks, newest first


def default_root() -> Path:
    """The workspace folder of this server: ``SDS_WORKSPACE``, or ``workspace_data`` beside the app."""
    return Path(os.environ.get("SDS_WORKSPACE") or DEFAULT_ROOT)


class ProjectNotFound(KeyError):
    """No project of this id in this workspace (deleted, never made, or in someone else's space)."""

    def __str__(self) -> str:
        return "This project does not exist or belongs to someone else."


class Workspace:
    """A folder of projects. Every method opens its own connection, so any thread may call it.

    Project ids reach the file system only after a check of their form, so an id typed into the address
    bar can never name a folder outside this workspace's root.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or default_root())
        self.root.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)
            if "shape" not in {row[1] for row in db.execute("PRAGMA table_info(exports)")}:  # older workspaces
                db.execute("ALTER TABLE exports ADD COLUMN shape TEXT")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.root / "catalogue.sqlite3", timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def _path(self, project_id: str) -> Path:
        """The project's folder (not created); raises ProjectNotFound for an id no project can have."""
        if not isinstance(project_id, str) or not PROJECT_ID.fullmatch(project_id):
            raise ProjectNotFound(project_id)
        return self.root / project_id

    def _folder(self, project_id: str) -> Path:
        folder = self._path(project_id)
        (folder / "models").mkdir(parents=True, exist_ok=True)
        (folder / "exports").mkdir(exist_ok=True)
        return folder

    def checkpoint_path(self, project_id: str, training_id: str) -> Path:
        """Where a running training of the project keeps its latest checkpoint (nothing is created here:
        looking for a checkpoint, or removing one after the project was deleted, must not make folders)."""
        return self._path(project_id) / "trainings" / f"{training_id}.pt"

    # ----- writing ---------------------------------------------------------------------------------------
    def create_project(self, dataset: Dataset, keep_data: bool = False) -> str:
        """Start a project for a freshly loaded table; its rows are stored only when ``keep_data``."""
        project_id, now = uuid.uuid4().hex[:12], time.time()
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                       (project_id, dataset.name, now, now, dataset.n_rows, dataset.n_columns,
                        dataset.schema.to_json()))
        self._folder(project_id)
        if keep_data:
            self.keep_data(project_id, dataset)
        return project_id

    def keep_data(self, project_id: str, dataset: Dataset) -> None:
        """Store the table as read (Parquet) with its reading report, so the project reopens with its data."""
        folder = self._folder(project_id)
        raw = dataset.raw.copy()
        raw.columns = [str(c) for c in raw.columns]
        raw.to_parquet(folder / "data.parquet", index=False)
        (folder / "reading.json").write_text(json.dumps({**asdict(dataset.report), "european": dataset.european}))
        self._update(project_id, "data_kept = 1")

    def forget_data(self, project_id: str) -> None:
        """Delete the stored table (models, scores and exports stay)."""
        folder = self._path(project_id)
        for name in ("data.parquet", "reading.json"):
            (folder / name).unlink(missing_ok=True)
        self._update(project_id, "data_kept = 0")

    def save_schema(self, project_id: str, schema: TableSchema) -> None:
        self._update(project_id, "schema = ?", (schema.to_json(),))

    def add_model(self, project_id: str, trained: TrainedModel) -> None:
        """Save the model file and its training record."""
        file = self._folder(project_id) / "models" / f"{trained.model_id}.pt"
        trained.model.save(file)
        info = {"report": asdict(trained.report), "holdout_share": trained.holdout_share,
                "split_seed": trained.split_seed, "real_rows": trained.real_rows, "finished_at": trained.finished_at,
                "race": trained.race}
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (trained.model_id, project_id, trained.generator, trained.preset, trained.finished_at,
                        file.name, json.dumps(info)))
        self._update(project_id)

    def add_evaluation(self, model_id: str, evaluation: Evaluation) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?)",
                       (model_id, time.time(), json.dumps(evaluation.to_dict())))

    def add_export(self, project_id: str, model_id: str | None, file_name: str, content: bytes, rows: int,
                   copies_removed: int, shape: list[dict] | None = None) -> Path:
        """Keep a copy of a downloaded export in the project folder, with the checks of a shaped export."""
        path = self._folder(project_id) / "exports" / file_name
        path.write_bytes(content)
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO exports (project, model, created, file, rows, copies_removed, shape) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (project_id, model_id, time.time(), file_name, rows, copies_removed,
                        json.dumps(shape) if shape else None))
        self._update(project_id)
        return path

    def delete_project(self, project_id: str) -> bool:
        """Delete a project of this workspace with its folder; False when it has no such project."""
        folder = self._path(project_id)
        with closing(self._connect()) as db, db:
            deleted = db.execute("DELETE FROM projects WHERE id = ?", (project_id,)).rowcount > 0
        if deleted:
            shutil.rmtree(folder, ignore_errors=True)
        return deleted

    def _update(self, project_id: str, assignment: str = "", values: tuple = ()) -> None:
        sets = ", ".join(filter(None, [assignment, "updated = ?"]))
        with closing(self._connect()) as db, db:
            db.execute(f"UPDATE projects SET {sets} WHERE id = ?", (*values, time.time(), project_id))

    # ----- reading ---------------------------------------------------------------------------------------
    def recent(self, limit: int = 10, project_id: str | None = None) -> list[ProjectInfo]:
        """Projects (or the one given), most recently changed first, with their model count and best quality."""
        query = f"""SELECT p.id, p.name, p.created, p.updated, p.rows, p.columns, p.data_kept, COUNT(m.id),
                          MAX(json_extract(e.scores, '$.quality.quality'))
                   FROM projects p LEFT JOIN models m ON m.project = p.id LEFT JOIN evaluations e ON e.model = m.id
                   {"WHERE p.id = ?" if project_id else ""} GROUP BY p.id ORDER BY p.updated DESC LIMIT ?"""
        with closing(self._connect()) as db:
            rows = db.execute(query, (project_id, limit) if project_id else (limit,)).fetchall()
        return [ProjectInfo(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8]) for r in rows]

    def open_project(self, project_id: str) -> OpenedProject:
        """Read a project back; files that cannot be read are listed in ``problems`` rather than raised."""
        folder = self._path(project_id)
        found = self.recent(1, project_id)
        if not found:
            raise ProjectNotFound(project_id)
        info = found[0]
        with closing(self._connect()) as db:
            schema_json = db.execute("SELECT schema FROM projects WHERE id = ?", (project_id,)).fetchone()[0]
            model_rows = db.execute("SELECT id, generator, preset, created, file, info FROM models WHERE project = ? "
                                    "ORDER BY created", (project_id,)).fetchall()
            scores = dict(db.execute("SELECT e.model, e.scores FROM evaluations e JOIN models m ON m.id = e.model "
                                     "WHERE m.project = ?", (project_id,)).fetchall())
            shapes = db.execute("SELECT model, shape FROM exports WHERE project = ? AND shape IS NOT NULL "
                                "ORDER BY created DESC", (project_id,)).fetchall()
        from evaluation.scorecard import Evaluation

        schema = TableSchema.from_json(schema_json)
        opened = OpenedProject(info, schema, None)
        if info.data_kept:
            opened.dataset = self._dataset(folder, info.name, schema, opened.problems)
        for model_id, generator, preset, created, file, model_info in model_rows:
            trained = self._model(folder / "models" / file, model_id, generator, preset, json.loads(model_info),
                                  opened.problems)
            if trained is not None:
                opened.models.append(trained)
                if model_id in scores:
                    opened.evaluations[model_id] = Evaluation.from_dict(json.loads(scores[model_id]))
        for model_id, shape in shapes:
            opened.shape_checks.setdefault(model_id, []).extend(json.loads(shape))
        return opened

    @staticmethod
    def _dataset(folder: Path, name: str, schema: TableSchema, problems: list[str]) -> Dataset | None:
        try:
            raw = pd.read_parquet(folder / "data.parquet")
            reading = json.loads((folder / "reading.json").read_text())
        except (OSError, ValueError) as exc:
            problems.append(f"The stored table could not be read back ({exc}).")
            return None
        for column in raw.columns:  # Parquet gives text back as python strings; the reader makes arrow strings
            if isinstance(raw[column].dtype, pd.StringDtype):
                raw[column] = raw[column].astype(pd.StringDtype("pyarrow"))
        european = reading.pop("european", False)
        known = {f.name for f in fields(ReadReport)}  # a report written by another version may have more or fewer
        report = ReadReport(**{k: v for k, v in reading.items() if k in known})
        return Dataset(name=name, raw=raw, schema=schema, report=report, european=european)

    @staticmethod
    def _model(path: Path, model_id: str, generator: str, preset: str, info: dict,
               problems: list[str]) -> TrainedModel | None:
        from models.base import Generator, ModelError
        from models.jobs import TrainedModel
        from models.training import TrainingReport

        try:
            model = Generator.load(path)
        except ModelError as exc:
            problems.append(f"Model {model_id} could not be read back: {exc}")
            return None
        return TrainedModel(generator, preset, model, TrainingReport(**info["report"]), info["finished_at"],
                            model_id=model_id, holdout_share=info["holdout_share"], split_seed=info["split_seed"],
                            real_rows=info["real_rows"], race=info.get("race"))
