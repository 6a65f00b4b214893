"""Keep text cells from running as spreadsheet formulas: a reversible apostrophe rule for exports."""

# The rule (one-to-one, so every export can be undone exactly):
# - neutralise: a text value that, after any leading apostrophes, starts with one of TRIGGERS gets one more
#   apostrophe in front ("=SUM(A1)" -> "'=SUM(A1)", "'+1" -> "''+1"); every other value is left alone.
# - restore: a value that has at least one leading apostrophe and, after its apostrophes, starts with one of
#   TRIGGERS loses one leading apostrophe; every other value is left alone.
# Values that neutralise leaves alone are exactly those restore leaves alone, so restore(neutralise(x)) == x.
# Only text is touched (never numbers, dates or yes/no, and never missing values).

from __future__ import annotations

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"


def _starts_with_trigger(values: pd.Series) -> pd.Series:
    """True where a text value starts with a trigger once its leading apostrophes are set aside."""
    if isinstance(values.dtype, pd.StringDtype):  # the common case, vectorised
        found = values.str.lstrip(PREFIX).str.startswith(TRIGGERS)
        return found.astype("boolean").fillna(False).astype(bool)
    flags = [isinstance(v, str) and v.lstrip(PREFIX).startswith(TRIGGERS) for v in values]
    return pd.Series(flags, index=values.index, dtype=bool)


def guarded(values: pd.Series) -> pd.Series:
    """True for each value ``neutralise`` changes: text that a spreadsheet could read as a formula."""
    return _starts_with_trigger(values)


def neutralise(values: pd.Series) -> pd.Series:
    """The values with one apostrophe put in front of each one a spreadsheet could read as a formula."""
    mask = guarded(values)
    if not mask.any():
        return values
    out = values.astype(object).copy()
    out[mask] = PREFIX + values[mask].astype(str)
    return out.astype(values.dtype) if pd.api.types.is_string_dtype(values.dtype) else out


def restore(values: pd.Series) -> pd.Series:
    """Undo ``neutralise``: drop one leading apostrophe where apostrophes are followed by a trigger."""
    leading = pd.Series([isinstance(v, str) and v.startswith(PREFIX) for v in values], index=values.index,
                        dtype=bool)
    mask = leading & _starts_with_trigger(values)
    if not mask.any():
        return values
    out = values.astype(object).copy()
    out[mask] = values[mask].astype(str).str.slice(1)
    return out.astype(values.dtype) if pd.api.types.is_string_dtype(values.dtype) else out


def note(count: int) -> str:
    """What protection did to an export, and how to undo it, in plain words ('' when nothing was changed)."""
    if count <= 0:
        return ""
    cells = f"{count:,} text cell" + ("s" if count != 1 else "")
    return (f"{cells} began with =, +, -, @, a tab or a line break, which a spreadsheet could run as a formula, "
            "so each got one apostrophe (') in front. To undo it, remove one leading apostrophe from values that "
            "start with apostrophes followed by one of those characters, or export again with protection off.")
