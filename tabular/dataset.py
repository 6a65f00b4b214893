"""A loaded dataset: the table as read, its schema, and the user's changes to kinds and handling."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tabular.errors import DataReadError
from tabular.infer import convert_column, infer_table, with_kind
from tabular.io import ReadReport, read_table
from tabular.profile import ColumnProfile, profile_column
from tabular.schema import Handling, Kind, TableSchema, allowed_handlings


@dataclass
class Dataset:
    """One table in the app: what was read, what the app understood, and what the user changed."""

    name: str
    raw: pd.DataFrame  # as read from the file; kept so a changed kind can be re-read
    schema: TableSchema
    report: ReadReport
    european: bool = False  # the file used ';' between fields (so likely decimal commas)
    _typed: dict[str, pd.Series] = field(default_factory=dict, repr=False)
    _profiles: dict[str, ColumnProfile] = field(default_factory=dict, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.raw)

    @property
    def n_columns(self) -> int:
        return self.raw.shape[1]

    def typed_column(self, name: str) -> pd.Series:
        """The column converted to its kind's type (cached until its kind changes)."""
        if name not in self._typed:
            self._typed[name] = convert_column(self.raw[name], self.schema.column(name))
        return self._typed[name]

    def typed(self) -> pd.DataFrame:
        """The whole table in the types the schema describes."""
        return pd.DataFrame({name: self.typed_column(name) for name in self.schema.names})

    def typed_as(self, schema: TableSchema) -> pd.DataFrame:
        """The table typed by another schema, e.g. the one a model was trained with before kinds were changed."""
        return pd.DataFrame({c.name: self.typed_column(c.name) if self.schema.column(c.name).kind is c.kind
                             else convert_column(self.raw[c.name], c) for c in schema.columns})

    def split(self, holdout_share: float = 0.2, seed: int = 0,
              schema: TableSchema | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Typed training rows and held-out rows (never used to fit), split at random.

        Args:
            holdout_share: share of rows held out.
            seed: the same seed gives the same split.
            schema: type the columns by this schema instead of the current one.
        """
        typed = self.typed() if schema is None else self.typed_as(schema)
        order = np.random.default_rng(seed).permutation(len(typed))
        cut = len(typed) - int(round(len(typed) * holdout_share))
        return typed.iloc[np.sort(order[:cut])], typed.iloc[np.sort(order[cut:])]

    def profile(self, name: str) -> ColumnProfile:
        if name not in self._profiles:
            self._profiles[name] = profile_column(self.typed_column(name), self.schema.column(name))
        return self._profiles[name]

    def profiles(self) -> list[ColumnProfile]:
        return [self.profile(name) for name in self.schema.names]

    def profile_rows(self) -> list[dict]:
        """One plain record per column: what the profile table and `cli.py profile` show."""
        rows = []
        for prof in self.profiles():
            spec = self.schema.column(prof.name)
            rows.append({
                "column": prof.name, "kind": spec.kind.value, "kind_label": spec.kind.label,
                "handling": spec.handling.value, "handling_label": spec.handling.label,
                "personal": spec.is_personal, "identifier": spec.kind is Kind.IDENTIFIER,
                "missing_share": round(prof.missing_share, 4), "distinct": prof.distinct,
                "examples": prof.examples, "distribution": prof.bar_counts, "reason": spec.reason,
            })
        return rows

    def set_kind(self, name: str, kind: Kind) -> None:
        """Treat a column as another kind, re-reading its values for that kind."""
        if self.schema.column(name).kind is kind:
            return
        spec, self._typed[name] = with_kind(self.raw, self.schema, name, kind, european=self.european)
        self.schema.replace(spec)
        self._profiles.pop(name, None)

    def set_handling(self, name: str, handling: Handling) -> str | None:
        """Change what happens to a column; returns a plain message when the choice does not fit."""
        spec = self.schema.column(name)
        if handling not in allowed_handlings(spec.kind):
            return (f"'{handling.label}' only works for personal-data columns, so '{name}' keeps "
                    f"'{spec.handling.label}'.")
        spec.handling = handling
        return None


def load_dataset(source: bytes | str | Path, file_name: str | None = None, name: str | None = None) -> Dataset:
    """Read a file and work out its schema.

    Raises:
        tabular.errors.DataReadError: the file cannot be read; the message is for the user.
    """
    result = read_table(source, file_name)
    european = result.report.delimiter == "semicolon"
    label = name or Path(result.report.file_name).stem
    schema, typed = infer_table(result.frame, source=result.report.file_name, european=european)
    return Dataset(name=label, raw=result.frame, schema=schema, report=result.report, european=european,
                   _typed=typed)


def load_like(source: bytes | str | Path, schema: TableSchema, file_name: str | None = None) -> pd.DataFrame:
    """Read another file of the same table (synthetic rows, a holdout), typed by the real table's schema.

    Raises:
        tabular.errors.DataReadError: the file cannot be read or lacks columns the schema learns.
    """
    result = read_table(source, file_name)
    frame = result.frame
    missing = [c.name for c in schema.modelled() if c.name not in frame.columns]
    if missing:
        raise DataReadError(f"{result.report.file_name} lacks columns of the real table: {', '.join(missing)}.")
    return pd.DataFrame({c.name: convert_column(frame[c.name], c) for c in schema.columns if c.name in frame.columns})
