"""Canaries: unique values planted once in a table, then looked for in synthetic rows and in model file bytes."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tabular.schema import Kind, TableSchema

NUMBER_KINDS = (Kind.NUMBER, Kind.WHOLE_NUMBER)


@dataclass(frozen=True)
class Canary:
    """One planted value: which column, which row, and the value."""

    column: str
    row: int
    value: str | float


def plant(frame: pd.DataFrame, schema: TableSchema, rng: np.random.Generator) -> tuple[pd.DataFrame, list[Canary]]:
    """A copy of ``frame`` with one canary per learned category and number column, each in one random row.

    Categories get a made-up label; numbers a value far above the column's largest (a one-off extreme,
    like a single very rich customer), whole for whole-number columns.
    """
    out, canaries = frame.copy(), []
    for spec in schema.modelled():
        if spec.kind is Kind.CATEGORY:
            value: str | float = f"CANARY-{zlib.crc32(spec.name.encode()) % 10**6:06d}-ZQX"
        elif spec.kind in NUMBER_KINDS and out[spec.name].notna().any():
            top = float(pd.to_numeric(out[spec.name], errors="coerce").max())
            value = round(abs(top) * 7 + 977.31, 0 if spec.kind is Kind.WHOLE_NUMBER else 2)
        else:
            continue
        row = int(rng.integers(len(out)))
        out.loc[out.index[row], spec.name] = value
        canaries.append(Canary(spec.name, row, value))
    return out, canaries


def _number_patterns(value: float) -> list[bytes]:
    """How a number could sit in a model file: float64, float32, or written as text."""
    text = [repr(value), f"{value:g}", str(int(value)) if float(value).is_integer() else repr(value)]
    return [struct.pack("<d", value), struct.pack("<f", value)] + [t.encode() for t in set(text)]


@dataclass(frozen=True)
class Leak:
    """A canary found: in how many synthetic rows, and whether the model file holds it."""

    canary: Canary
    rows: int
    in_file: bool

    @property
    def sentence(self) -> str:
        where = [f"in {self.rows:,} synthetic rows"] if self.rows else []
        where += ["in the model file"] if self.in_file else []
        return f"{self.canary.column}: the planted value {self.canary.value!r} is " + " and ".join(where)


def leaks(canaries: list[Canary], synthetic: pd.DataFrame, model_bytes: bytes | None) -> list[Leak]:
    """Each canary seen in the synthetic rows or in the model file (empty: none); ``model_bytes`` None:
    no model file to search (another tool)."""
    found = []
    for canary in canaries:
        column = synthetic[canary.column]
        if isinstance(canary.value, str):
            in_rows = int((column.astype(str) == canary.value).sum())
            in_file = model_bytes is not None and canary.value.encode() in model_bytes
        else:
            in_rows = int((pd.to_numeric(column, errors="coerce") == canary.value).sum())
            in_file = model_bytes is not None and any(p in model_bytes for p in _number_patterns(canary.value))
        if in_rows or in_file:
            found.append(Leak(canary, in_rows, in_file))
    return found
