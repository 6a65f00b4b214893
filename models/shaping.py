"""Shaped exports: synthetic rows under conditions, extra rows of a rare case, or the real table augmented."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.base import Generator
from models.synthesis import RowsCallback, SynthesisResult, fresh_surrogates, synthesize
from tabular.conditions import ConditionError, Conditions
from tabular.schema import ColumnFormat, ColumnSpec, Handling, Kind, TableSchema

FLAG_COLUMN = "synthetic_row"  # augmentation marks each row: yes for synthetic, no for real
AUGMENT_WARNING = ("This file contains your real rows: share and store it like the original table, not like "
                   "synthetic data.")


@dataclass(frozen=True)
class OutputPlan:
    """What an export makes.

    ``rows`` synthetic rows meeting ``conditions`` (none: like the real table), then ``extra_rows`` more
    meeting ``extra`` ("add N rows of a rare case"). With ``augment`` the real rows take the place of the
    first part: the file is the real table plus ``extra_rows`` synthetic rows, marked in ``FLAG_COLUMN``.
    """

    rows: int
    conditions: Conditions = field(default_factory=Conditions)
    extra_rows: int = 0
    extra: Conditions = field(default_factory=Conditions)
    augment: bool = False

    @property
    def shaped(self) -> bool:
        return bool(self.conditions) or bool(self.extra_rows and self.extra) or self.augment

    def check(self) -> None:
        """Refuse plans that cannot mean anything, in plain words."""
        if self.extra_rows and not self.extra:
            raise ConditionError("Say which rows to add: fix at least one value for the added rows.")
        if self.augment and not self.extra_rows:
            raise ConditionError("Augmenting the real table needs a number of synthetic rows to add.")


def make_output(model: Generator, plan: OutputPlan, seed: int | None = None, real: pd.DataFrame | None = None,
                drop_copies: bool = True, on_progress: RowsCallback | None = None) -> SynthesisResult:
    """The rows of ``plan``; progress counts synthetic rows made. Raises ``ConditionError`` for an impossible plan."""
    plan.check()
    if plan.augment and real is None:
        raise ConditionError("Augmentation adds synthetic rows to the real table, which is not loaded.")
    report = on_progress or (lambda *_: None)
    wanted = (0 if plan.augment else plan.rows) + plan.extra_rows
    joined = bool(plan.extra_rows) and not plan.augment  # two synthetic parts: new IDs made once over both
    main = None
    if not plan.augment:
        main = synthesize(model, plan.rows, seed, real, drop_copies, lambda made, _: report(made, wanted),
                          plan.conditions, fresh=not joined)
    done = 0 if main is None else len(main.frame)
    extra = None
    if plan.extra_rows:
        extra = synthesize(model, plan.extra_rows, None if seed is None else seed + 7, real, drop_copies,
                           lambda made, _: report(done + made, wanted), plan.extra, fresh=not joined)
    if plan.augment:
        return _augmented(model, real, extra)
    if extra is None:
        return main
    result = _appended(main, extra)
    result.values_replaced = fresh_surrogates(model, result.frame, real, np.random.default_rng(seed))
    return result


def flag_name(schema: TableSchema) -> str:
    """``FLAG_COLUMN``, or with underscores added until no column of the table has the name."""
    names, flag = {c.name for c in schema.columns}, FLAG_COLUMN
    while flag in names:
        flag += "_"
    return flag


def shaped_parts(result: SynthesisResult, plan: OutputPlan) -> list[tuple[pd.DataFrame, Conditions]]:
    """The synthetic rows of an output made under conditions, each with the conditions it was made under."""
    parts = []
    if plan.conditions and not plan.augment:
        parts.append((result.frame.iloc[: len(result.frame) - result.added_rows], plan.conditions))
    if result.added_rows and plan.extra:
        added = result.frame.iloc[len(result.frame) - result.added_rows:]
        parts.append((added.drop(columns=[result.flag]) if result.flag else added, plan.extra))
    return parts


def _appended(main: SynthesisResult, extra: SynthesisResult) -> SynthesisResult:
    frame = pd.concat([main.frame, extra.frame], ignore_index=True)
    notes = main.notes + extra.notes + [f"The last {len(extra.frame):,} rows were added with "
                                        f"{extra.conditions.words()}."]
    return dataclasses.replace(main, frame=frame, requested=main.requested + extra.requested, notes=notes,
                               copies_removed=main.copies_removed + extra.copies_removed,
                               added_rows=len(extra.frame))


def _augmented(model: Generator, real: pd.DataFrame, extra: SynthesisResult) -> SynthesisResult:
    """The real rows (the columns a synthetic file has) then the synthetic ones, with a yes/no flag column."""
    columns = list(extra.frame.columns)
    own = real[columns].reset_index(drop=True)
    frame = pd.concat([own, extra.frame], ignore_index=True)
    flag = flag_name(model.schema_)
    frame[flag] = pd.array([False] * len(own) + [True] * len(extra.frame), dtype="boolean")
    schema = TableSchema.from_json(model.schema_.to_json())
    schema.columns.append(ColumnSpec(flag, Kind.YES_NO, Handling.SYNTHESIZE,
                                     format=ColumnFormat(true_label="yes", false_label="no")))
    notes = [AUGMENT_WARNING, f"It holds {len(own):,} real rows, then {len(extra.frame):,} synthetic rows with "
             f"{extra.conditions.words()}; the column '{flag}' says which is which."] + extra.notes
    return dataclasses.replace(extra, frame=frame, notes=notes, real_rows=len(own), schema=schema,
                               added_rows=len(extra.frame), flag=flag)
