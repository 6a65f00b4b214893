"""Row and value matching between tables: which synthetic rows or values also occur in the real data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabular.schema import Kind, TableSchema

NUMBER_KINDS = (Kind.NUMBER, Kind.WHOLE_NUMBER)


def _normalised(values: pd.Series, kind: Kind) -> pd.Series:
    """One representation per kind, so equal values hash equal whatever the dtype they came in."""
    if kind in NUMBER_KINDS:
        return pd.to_numeric(values, errors="coerce").astype("float64").round(9)
    if kind is Kind.DATETIME:
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    return values.astype(object).where(values.notna(), None).astype(str)


def row_keys(frame: pd.DataFrame, schema: TableSchema, columns: list[str] | None = None) -> np.ndarray:
    """A 64-bit hash per row over the given columns (default: the synthesized ones)."""
    names = columns if columns is not None else [c.name for c in schema.modelled()]
    plain = pd.DataFrame({n: _normalised(frame[n], schema.column(n).kind) for n in names}, index=frame.index)
    return pd.util.hash_pandas_object(plain, index=False).to_numpy()


def copied_rows(synthetic: pd.DataFrame, real: pd.DataFrame | np.ndarray, schema: TableSchema,
                columns: list[str] | None = None) -> np.ndarray:
    """A boolean mask over the synthetic rows: True where the row equals some real row.

    ``real`` may be the real table or its ``row_keys`` (to hash a large table once for many checks).
    """
    keys = real if isinstance(real, np.ndarray) else row_keys(real, schema, columns)
    return np.isin(row_keys(synthetic, schema, columns), keys)


def known_values(real: pd.Series) -> set[str]:
    """The real values of a column as trimmed, case-folded text (to catch near-identical spellings)."""
    return set(real.dropna().astype(str).str.strip().str.casefold())


def is_known(values: pd.Series, known: set[str]) -> np.ndarray:
    """True where a value equals (trimmed, case-folded) one of the known real values."""
    return values.astype(str).str.strip().str.casefold().isin(known).to_numpy() & values.notna().to_numpy()
