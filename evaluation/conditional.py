"""How well rows made under conditions match the real rows that meet the same conditions (shaped exports)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from evaluation.quality import quality_scores
from evaluation.sdmetrics_bridge import scored_columns
from tabular.conditions import Conditions
from tabular.schema import Handling, TableSchema

MIN_REAL_ROWS = 30  # fewer real rows than this meeting a condition cannot give a shape score worth showing
MIN_UNSEEN_ROWS = 50  # judged on unseen rows when at least this many meet the condition, else on all real rows


@dataclass
class GroupCheck:
    """One group of rows (the whole request, or one value of a mix) against the real rows like it."""

    words: str  # the group's condition in plain words
    synthetic_rows: int
    real_rows: int  # real rows meeting the condition, that the group is compared with
    shapes: float | None = None  # sdmetrics Column Shapes of the columns not fixed by the condition (0..1)
    trends: float | None = None  # sdmetrics Column Pair Trends of those columns (None with fewer than two)
    worst: list[dict] = field(default_factory=list)  # column, score: the three columns matched least well

    @property
    def unscored_because(self) -> str | None:
        """Why the group has no score, in plain words (None when it has one)."""
        if self.shapes is not None:
            return None
        if not self.synthetic_rows:
            return ("no row of the file has it (its share is too small for the number of rows), so there is "
                    "nothing to compare.")
        if self.real_rows < MIN_REAL_ROWS:
            return f"too few real rows ({self.real_rows}) meet it to compare the other columns with."
        return "no other column can be compared (the rest are fixed or hold one value)."


@dataclass
class ConditionalCheck:
    """A shaped export's conditional quality: each group, and which real rows it was judged on."""

    request: str  # the request in plain words
    judged_on: str  # "unseen" (held-out rows) or "all" (every real row: too few unseen ones meet it)
    groups: list[GroupCheck] = field(default_factory=list)

    @property
    def shapes(self) -> float | None:
        """Column shapes over the groups that could be scored, weighted by their synthetic rows."""
        scored = [g for g in self.groups if g.shapes is not None]
        total = sum(g.synthetic_rows for g in scored)
        return sum(g.shapes * g.synthetic_rows for g in scored) / total if total else None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ConditionalCheck:
        return cls(data["request"], data["judged_on"], [GroupCheck(**g) for g in data["groups"]])


def conditional_check(synthetic: pd.DataFrame, conditions: Conditions, schema: TableSchema,
                      unseen: pd.DataFrame, everything: pd.DataFrame) -> ConditionalCheck:
    """Score each group of ``synthetic`` against the real rows meeting its condition.

    Args:
        synthetic: rows made under ``conditions`` (typed).
        conditions: the request (row conditions, and possibly a mix: one group per mixed value).
        schema: the columns.
        unseen: real rows the generator never saw (used when enough of them meet every group's condition).
        everything: all real rows (used otherwise, and said so).
    """
    groups = [part for part, _ in conditions.parts()]
    enough = all(int(g.met(unseen).sum()) >= MIN_UNSEEN_ROWS for g in groups)
    real = unseen if enough else everything
    check = ConditionalCheck(conditions.words(), "unseen" if enough else "all")
    for group in groups:
        mine, theirs = synthetic[group.met(synthetic)], real[group.met(real)]
        result = GroupCheck(group.words(), len(mine), len(theirs))
        if len(theirs) >= MIN_REAL_ROWS and len(mine):
            _score(result, theirs, mine, without(schema, {c.column for c in group.where if c.fixed}))
        check.groups.append(result)
    return check


def without(schema: TableSchema, columns: set[str]) -> TableSchema:
    """The schema with ``columns`` left out of the scores (e.g. those a condition fixes: they match by construction)."""
    out = TableSchema.from_json(schema.to_json())
    for name in columns:
        out.column(name).handling = Handling.DROP
    return out


def _score(result: GroupCheck, real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> None:
    """Shapes, trends and the worst columns, over the columns a quality score compares (none: left unscored,
    not shown as 0%)."""
    scored = scored_columns(schema)
    if not scored:
        return
    scores = quality_scores(real, synthetic, schema)
    result.shapes = scores.column_shapes
    result.trends = scores.column_pair_trends if len(scored) > 1 else None
    result.worst = [{"column": c["column"], "score": c["score"]} for c in scores.columns if c["score"] is not None][:3]
