"""Turn text columns into numbers, dates and yes/no values, detecting how they were written."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tabular.schema import ColumnFormat

CURRENCY = "$€£¥"
_PREFIX = re.compile(rf"^([+-]?\s?[{CURRENCY}])")
_SUFFIX = re.compile(rf"\s?(%|[{CURRENCY}])$")

# (decimal separator, thousands separator) -> pattern for a full number written that way.
_NUMBER_STYLES: dict[tuple[str, str], str] = {
    (".", ""): r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
    (".", ","): r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?$",
    (",", ""): r"^[+-]?(\d+(,\d*)?|,\d+)$",
    (",", "."): r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d*)?$",
    (".", "'"): r"^[+-]?(\d{1,3}('\d{3})+|\d+)(\.\d*)?$",
    (",", " "): r"^[+-]?(\d{1,3}( \d{3})+|\d+)(,\d*)?$",
    (".", " "): r"^[+-]?(\d{1,3}( \d{3})+|\d+)(\.\d*)?$",
}

YES_NO_PAIRS = (
    ("yes", "no"), ("y", "n"), ("true", "false"), ("t", "f"), ("1", "0"), ("ja", "nein"),
    ("oui", "non"), ("si", "no"), ("sí", "no"), ("on", "off"), ("1.0", "0.0"),
)


@dataclass
class NumberStyle:
    """How numbers in a column are written."""

    decimal_sep: str
    thousands_sep: str
    prefix: str
    suffix: str
    share: float  # share of sampled values that parse this way
    decimals: int  # most digits seen after the decimal separator


def _affixes(sample: pd.Series) -> tuple[str, str]:
    """A currency sign or unit that most values share, e.g. '$' before or '%' after."""
    pre = sample.str.extract(_PREFIX.pattern, expand=False).dropna() if len(sample) else pd.Series([], dtype=str)
    suf = sample.str.extract(_SUFFIX.pattern, expand=False).dropna() if len(sample) else pd.Series([], dtype=str)
    prefix = suf_val = ""
    if len(pre) >= 0.8 * len(sample):
        prefix = pre.str.replace(r"[+\-\s]", "", regex=True).mode().iat[0]
    if len(suf) >= 0.8 * len(sample):
        suf_val = suf.mode().iat[0]
        if sample.str.endswith(" " + suf_val).mean() > 0.5:
            suf_val = " " + suf_val
    return prefix, suf_val


def _strip_affixes(values: pd.Series, prefix: str, suffix: str) -> pd.Series:
    if prefix:
        values = values.str.replace(prefix, "", regex=False).str.replace(r"^([+-])\s+", r"\1", regex=True)
    if suffix:
        values = values.str.replace(suffix.strip(), "", regex=False)
    return values.str.strip()


def detect_number_style(sample: pd.Series, prefer_decimal_comma: bool = False) -> NumberStyle | None:
    """Find the number style that fits the most sampled values, or None when they are not numbers.

    Values with a leading zero (like '00123' or zip codes) are codes, not numbers, so they veto.
    """
    sample = sample.dropna().astype(str)
    if sample.empty:
        return None
    prefix, suffix = _affixes(sample)
    core = _strip_affixes(sample, prefix, suffix)
    if core.str.match(r"^[+-]?0\d").mean() > 0.01:
        return None
    order = list(_NUMBER_STYLES)
    if prefer_decimal_comma:
        order = [(",", ""), (",", "."), (",", " ")] + [s for s in order if s[0] == "."]
    best: NumberStyle | None = None
    for dec, thou in order:
        share = float(core.str.match(_NUMBER_STYLES[(dec, thou)]).mean())
        if best is None or share > best.share + 1e-9:
            longest = core.str.extract(rf"\{dec}(\d+)$", expand=False).str.len().max()
            decimals = 0 if pd.isna(longest) else int(longest)
            best = NumberStyle(dec, thou, prefix, suffix, share, min(decimals, 12))
    return best


def written_in(text: str, fmt: ColumnFormat) -> bool:
    """Whether one number is written in this style (its separators where they belong, affixes aside):
    "25.5" is not in the style of "1.234,5", which would read it as 255."""
    core = text.strip()
    for affix in (fmt.prefix, fmt.suffix.strip()):
        core = core.replace(affix, "") if affix else core
    core = re.sub(r"^([+-])\s+", r"\1", core.strip())
    pattern = _NUMBER_STYLES.get((fmt.decimal_sep, fmt.thousands_sep), _NUMBER_STYLES[(".", "")])
    return re.match(pattern, core) is not None


def parse_numbers(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Parse a text column written in the given style; what does not parse becomes missing."""
    arr = arrow_strings(values)
    if fmt.prefix or fmt.suffix:
        for affix in (fmt.prefix, fmt.suffix.strip()):
            arr = pc.replace_substring(arr, affix, "") if affix else arr
        arr = pc.replace_substring_regex(pc.utf8_trim_whitespace(arr), r"^([+-])\s+", r"\1")
    if fmt.thousands_sep:
        arr = pc.replace_substring(arr, fmt.thousands_sep, "")
    if fmt.decimal_sep == ",":
        arr = pc.replace_substring(arr, ",", ".")
    try:
        numbers = pc.cast(arr, pa.float64())  # the common case: every value is a clean number
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        valid = pc.fill_null(pc.match_substring_regex(arr, _NUMBER_STYLES[(".", "")]), False)
        numbers = pc.cast(pc.if_else(valid, arr, pa.scalar(None, pa.string())), pa.float64())
    out = pd.Series(pc.fill_null(numbers, np.nan).to_numpy(), index=values.index, dtype="float64")
    return out.where(np.isfinite(out))  # 'inf' and 'nan' spelled out are not numbers a table can hold


def format_number(value: float, fmt: ColumnFormat) -> str:
    """Write a number the way the file wrote it: separators, decimals, currency sign or unit."""
    text = f"{abs(value):,.{fmt.decimals}f}"
    text = text.replace(",", "\0").replace(".", fmt.decimal_sep).replace("\0", fmt.thousands_sep)
    return ("-" if value < 0 else "") + fmt.prefix + text + fmt.suffix


def arrow_strings(values: pd.Series) -> pa.ChunkedArray:
    """The column as an Arrow string array (no copy when it is already Arrow-backed)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return pa.chunked_array(pa.array(values.array))
    objects = values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))
    return pa.chunked_array([pa.array(objects.to_numpy(), type=pa.string())])


STRING = pd.StringDtype("pyarrow")


def plural(n: int, noun: str) -> str:
    """'1 empty row', '3 empty rows'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def duration(seconds: float) -> str:
    """'45 s', '3 min', '2 min 05 s'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min" + (f" {seconds % 60:02d} s" if seconds % 60 else "")

LONG_WHOLE = r"[+-]?0*[1-9]\d{15,}"  # whole numbers of 16+ digits: beyond what a float64 holds exactly


def long_whole_numbers(values: pd.Series) -> bool:
    """Whether text values are all whole numbers, some too long (16+ digits) to calculate with exactly."""
    present = pa.array(values.dropna().astype(str), pa.string())
    return bool(len(present)) and bool(pc.max(pc.utf8_length(present)).as_py() >= 16) and bool(
        pc.all(pc.match_substring_regex(present, r"^[+-]?\d+$")).as_py()) and bool(
        pc.any(pc.match_substring_regex(present, f"^{LONG_WHOLE}$")).as_py())


def detect_yes_no(distinct_lower: set[str]) -> tuple[str, str] | None:
    """Return the (yes, no) spelling pair when the distinct values are a yes/no pair."""
    if not 1 <= len(distinct_lower) <= 2:
        return None
    for yes, no in YES_NO_PAIRS:
        if distinct_lower <= {yes, no} and len(distinct_lower) == 2:
            return yes, no
    return None


def parse_yes_no(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Map the column's own yes/no spellings to True/False; anything else becomes missing."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values):
        return values.map({1: True, 0: False}).astype("boolean")
    if numeric_labels(fmt):  # '1', '1.0' and '0', '0.0', '-0' are all the same two answers
        numbers = parse_numbers(values, fmt)
        return numbers.map({1.0: True, 0.0: False}).astype("boolean")
    lower = values.astype(STRING).str.lower()
    mapping = {fmt.true_label.lower(): True, fmt.false_label.lower(): False}
    return lower.map(mapping).astype("boolean")


def numeric_labels(fmt: ColumnFormat) -> bool:
    """True when a yes/no column writes its answers as the numbers 1 and 0 (in any spelling)."""
    try:
        pair = (float(fmt.true_label.replace(",", ".")), float(fmt.false_label.replace(",", ".")))
    except ValueError:
        return False
    return pair == (1.0, 0.0)


def decimals_in(values: pd.Series) -> int:
    """Digits after the decimal point needed to write these floats without losing precision."""
    finite = values.dropna().to_numpy(dtype=float)[:5000]
    if finite.size == 0:
        return 0
    for places in range(0, 7):
        if np.allclose(finite, np.round(finite, places), rtol=0, atol=1e-9):
            return places
    return 6
