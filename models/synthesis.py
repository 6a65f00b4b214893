"""Generate a synthetic table for export: in chunks with progress, without copies of real rows or values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.base import Generator
from tabular.conditions import Conditions
from tabular.matching import copied_rows, is_known, known_values, row_keys
from tabular.schema import Handling, TableSchema

CHUNK_ROWS = 20_000  # rows drawn per step (one progress update each)
MAX_ROUNDS = 8  # extra draws to replace removed copies before giving up
RowsCallback = Callable[[int, int], None]  # (rows made, rows wanted)


@dataclass
class SynthesisResult:
    """The synthetic table and what was filtered out on the way."""

    frame: pd.DataFrame
    requested: int
    copies_removed: int = 0  # synthetic rows equal to a real row, dropped and replaced
    values_replaced: int = 0  # new IDs or fake values that equalled a real value, redrawn
    protected_cells: int = 0  # text cells the written file keeps from running as formulas (tabular.formula_guard)
    notes: list[str] = field(default_factory=list)
    conditions: Conditions = field(default_factory=Conditions)  # what every row (or the added rows) was asked to meet
    real_rows: int = 0  # augmentation: the table starts with this many real rows
    added_rows: int = 0  # the table ends with this many rows added under other conditions (``OutputPlan.extra``)
    flag: str | None = None  # augmentation: the yes/no column saying which rows are synthetic
    schema: TableSchema | None = None  # the file's columns when they differ from the model's (augmentation's flag)


def synthesize(model: Generator, rows: int, seed: int | None = None, real: pd.DataFrame | None = None,
               drop_copies: bool = True, on_progress: RowsCallback | None = None,
               conditions: Conditions | None = None, fresh: bool = True) -> SynthesisResult:
    """Draw ``rows`` synthetic rows.

    Args:
        model: a fitted generator.
        rows: how many rows to return.
        seed: makes the draw reproducible.
        real: the real (typed) table; when given, rows copying a real row are replaced (if ``drop_copies``)
            and new IDs or fake values equal to a real value are redrawn.
        drop_copies: replace synthetic rows identical to a real row on the synthesized columns.
        on_progress: called with (rows made, rows wanted) after each chunk.
        conditions: fixed values, ranges or a mix every row meets (``Generator.sample``); raises
            ``ConditionError`` when they cannot be met.
        fresh: make new IDs and fake values here; False for a part of a table the caller joins and then
            gives them once (``fresh_surrogates``), so IDs are unique across the parts.
    """
    report = on_progress or (lambda *_: None)
    if conditions is not None and conditions.mix is not None:
        return _mixed(model, rows, seed, real, drop_copies, report, conditions, fresh)
    rng = np.random.default_rng(seed)
    chunks, made, removed = [], 0, 0
    real_keys = row_keys(real, model.schema_) if drop_copies and real is not None else None
    step = min(CHUNK_ROWS, model.sample_chunk)  # slow samplers report progress more often
    for _ in range(-(-rows // step) + MAX_ROUNDS):  # the chunks needed, plus a few to replace copies
        if made >= rows:
            break
        chunk = model.sample(min(step, rows - made), seed=int(rng.integers(2**31)), conditions=conditions)
        if real_keys is not None:
            copies = copied_rows(chunk, real_keys, model.schema_)
            removed += int(copies.sum())
            chunk = chunk[~copies]
        chunks.append(chunk)
        made += len(chunk)
        report(made, rows)
    frame = pd.concat(chunks, ignore_index=True) if chunks else model.sample(0)
    result = SynthesisResult(frame, rows, copies_removed=removed, conditions=conditions or Conditions())
    if fresh:
        result.values_replaced = fresh_surrogates(model, frame, real, rng)
    if len(frame) < rows:
        result.notes.append(f"Only {len(frame):,} of {rows:,} rows could be made without copying a real row: this "
                            "table has few possible combinations. Turn off copy removal to get every row.")
    return result


def _mixed(model: Generator, rows: int, seed: int | None, real: pd.DataFrame | None, drop_copies: bool,
           report: RowsCallback, conditions: Conditions, fresh: bool) -> SynthesisResult:
    """A mix met exactly over the whole table: each value's rows drawn (and copies replaced) on their own, new
    IDs and fakes made once over the joined table."""
    rng = np.random.default_rng(seed)
    parts, done = [], 0
    for asked, count in conditions.parts(rows):
        offset = done
        part = synthesize(model, count, int(rng.integers(2**31)), real, drop_copies,
                          lambda made, _: report(offset + made, rows), asked, fresh=False)
        parts.append(part)
        done += len(part.frame)
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    result = SynthesisResult(frame, rows, copies_removed=sum(p.copies_removed for p in parts), conditions=conditions)
    if fresh:
        result.values_replaced = fresh_surrogates(model, frame, real, rng)
    result.notes = list(dict.fromkeys(note for p in parts for note in p.notes))
    return result


def fresh_surrogates(model: Generator, frame: pd.DataFrame, real: pd.DataFrame | None,
                     rng: np.random.Generator) -> int:
    """Make ID and fake columns over the whole table at once: IDs unique, no value equal to a real one."""
    model.surrogates_.fill(frame, model.schema_, rng)
    replaced = 0
    for spec in model.schema_.columns:
        if spec.handling not in (Handling.NEW_IDS, Handling.FAKE):
            continue
        known = known_values(real[spec.name]) if real is not None and spec.name in real else set()
        values = frame[spec.name].copy()
        for _ in range(20):
            bad = is_known(values, known)
            if spec.handling is Handling.NEW_IDS:
                bad |= values.duplicated().to_numpy()
            if not bad.any():
                break
            replaced += int(bad.sum())
            values[bad] = model.surrogates_.make(spec, int(bad.sum()), rng).to_numpy()
        frame[spec.name] = values
    return replaced
