"""Dates and times: detect how a column writes them (time-zone suffix included), parse them, write them back."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from tabular.parsing import arrow_strings
from tabular.schema import ColumnFormat

DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d-%m-%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y", "%d %b %Y", "%d-%b-%Y", "%d %B %Y",
    "%b %d, %Y", "%B %d, %Y", "%b-%Y", "%b %Y", "%B %Y", "%Y-%m",
)
EUROPEAN_FIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%y")
KIND_SHARE = 0.95  # share of values one zone suffix must cover to be written literally

_DATE_SHAPE = (r"^(\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?|\d{1,2}[ -]?[A-Za-z]{3,9}[ -]?\d{2,4}"
               r"|[A-Za-z]{3,9}[ -]\d{1,2}(, \d{4})?|[A-Za-z]{3,9}[ -]\d{4})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
# A time of day followed by a zone: 'Z', '+02:00', '-0500' or '+02' (optionally after a space).
_ZONED = r"^(?P<body>.*\d:\d{2}(?::\d{2})?(?:\.\d+)?)(?P<zone>\s?(?:Z|[+-]\d{2}(?::?\d{2})?))$"
_ZONE_LITERAL = re.compile(r"\s?(Z|[+-]\d{2}(?::?\d{2})?)$")


def zone_of(pattern: str) -> str:
    """The time zone a pattern's values are in: 'UTC' for a trailing 'Z' or '%z', else its literal offset."""
    if pattern.endswith("%z"):
        return "UTC"
    found = _ZONE_LITERAL.search(pattern) if re.search(r"%[HMS]", pattern) else None
    if not found:
        return ""
    zone = found.group(1)
    if zone == "Z":
        return "UTC"
    digits = zone[1:].replace(":", "").ljust(4, "0")
    return f"{zone[0]}{digits[:2]}:{digits[2:]}"


def _split_zone(sample: pd.Series) -> tuple[pd.Series, str]:
    """The values without a trailing time zone, and how the zone goes into the pattern ('Z', '+02:00', '%z')."""
    parts = sample.str.extract(_ZONED)
    zoned = parts["zone"].notna()
    if zoned.mean() < 0.5:
        return sample, ""
    body = parts["body"].where(zoned, sample)
    zones = parts["zone"][zoned].value_counts()
    if zones.iloc[0] >= KIND_SHARE * len(sample):
        return body, str(zones.index[0])
    spaced = parts["zone"][zoned].str.startswith(" ").mean() > 0.5
    return body, " %z" if spaced else "%z"


def _best_listed(sample: pd.Series, prefer_day_first: bool) -> tuple[str, float]:
    if sample.empty or sample.str.match(_DATE_SHAPE).mean() < 0.5:
        return "", 0.0
    formats = list(DATE_FORMATS)
    if prefer_day_first:
        formats = list(EUROPEAN_FIRST) + [f for f in formats if f not in EUROPEAN_FIRST]
    best, best_share = "", 0.0
    for fmt in formats:
        share = float(pd.to_datetime(sample, format=fmt, errors="coerce").notna().mean())
        if share > best_share + 1e-9:
            best, best_share = fmt, share
        if share == 1.0:
            break
    return best, best_share


def _guessed(sample: pd.Series) -> tuple[str, float]:
    """A pattern pandas guesses from the values themselves; only full dates (year, month, day) count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guesses = pd.Series([guess_datetime_format(v) for v in sample.head(20)]).dropna()
    guesses = guesses[guesses.str.contains("%Y") & guesses.str.contains("%m") & guesses.str.contains("%d")]
    if guesses.empty:
        return "", 0.0
    pattern = str(guesses.mode().iat[0])
    return pattern, float(pd.to_datetime(sample, format=pattern, errors="coerce").notna().mean())


def detect_datetime_format(sample: pd.Series, prefer_day_first: bool = False) -> tuple[str, float]:
    """Return the date pattern (with any time-zone suffix) that parses the most sampled values, and that share."""
    sample = sample.dropna().astype(str)
    if sample.empty:
        return "", 0.0
    body, zone = _split_zone(sample)
    pattern, share = _best_listed(body, prefer_day_first)
    if share < KIND_SHARE and (body.str.len() >= 8).mean() >= KIND_SHARE:
        guessed, guessed_share = _guessed(body)
        pattern, share = (guessed, guessed_share) if guessed_share > share else (pattern, share)
    return (pattern + zone if pattern else ""), share


def native_format(values: pd.Series) -> ColumnFormat:
    """The format of a column a file stored as timestamps: date or date-time, zone and unit kept."""
    tz = getattr(values.dt, "tz", None)
    zone = zone_name(tz) if tz is not None else ""
    present = parse_datetimes(values, ColumnFormat(timezone=zone)).dropna()
    times = pd.DatetimeIndex(present)
    has_time = bool((times.hour != 0).any() or (times.minute != 0).any() or (times.second != 0).any()
                    or (times.microsecond != 0).any())
    pattern = "%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d"
    if has_time and (times.microsecond != 0).any():
        pattern += ".%f"
    unit = np.datetime_data(values.dtype.base if tz else values.dtype)[0]
    return ColumnFormat(datetime_format=pattern, timezone=zone, time_unit=unit)


def zone_name(tz) -> str:
    """A name pandas and Arrow both accept for a time zone: 'Europe/Berlin', 'UTC' or a fixed '+02:00'."""
    name = getattr(tz, "zone", None) or getattr(tz, "key", None)
    if name:
        return str(name)
    if str(tz) in ("UTC", "utc"):
        return "UTC"
    minutes = int(tz.utcoffset(pd.Timestamp("2000-01-01").to_pydatetime()).total_seconds() // 60)
    return "UTC" if minutes == 0 else f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _nanoseconds(values: pd.Series) -> pd.Series:
    """Naive nanosecond timestamps; values outside what nanoseconds can hold (years 1677-2262) become missing."""
    if values.dtype == "datetime64[ns]":
        return values
    inside = values.isna() | ((values >= pd.Timestamp.min) & (values <= pd.Timestamp.max))
    return values.where(inside).astype("datetime64[ns]")


def parse_datetimes(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Parse dates written in one pattern to naive timestamps: wall-clock time in the column's zone.

    A stored zone-aware column is read in its own zone; a text pattern ending in '%z' (offsets that vary)
    is read as UTC. What does not parse becomes missing.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(fmt.timezone or "UTC").dt.tz_localize(None)
        return _nanoseconds(values)
    pattern = fmt.datetime_format
    if "%z" in pattern:
        parsed = pd.to_datetime(values.astype(object), format=pattern, errors="coerce", utc=True)
        return _nanoseconds(parsed.dt.tz_localize(None))
    if pattern and "%f" not in pattern:  # Arrow's parser is many times faster than pandas'
        parsed = pc.strptime(arrow_strings(values), format=pattern, unit="ns", error_is_null=True)
        return pd.Series(parsed.to_numpy(), index=values.index, dtype="datetime64[ns]")
    parsed = pd.to_datetime(values.astype(object), format=pattern or "mixed", errors="coerce")
    return _nanoseconds(parsed)


def format_datetimes(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Write timestamps as the file wrote them (a '%z' pattern writes the UTC offset, '+0000')."""
    pattern = fmt.datetime_format or "%Y-%m-%d"
    if "%z" in pattern:
        return values.dt.tz_localize("UTC").dt.strftime(pattern)
    return values.dt.strftime(pattern)


def stored_timestamps(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Naive wall-clock timestamps made zone-aware again in the column's zone, for files that keep zones."""
    zone = fmt.timezone or zone_of(fmt.datetime_format)
    if not zone:
        return values
    ambiguous = np.zeros(len(values), dtype=bool)  # a repeated hour at a clock change: standard time
    return values.dt.tz_localize(zone, ambiguous=ambiguous, nonexistent="shift_forward")


def is_date_only(fmt: ColumnFormat) -> bool:
    """True when the pattern writes no time of day (such columns are stored as dates, not timestamps)."""
    return not re.search(r"%[HIMSfpz]", fmt.datetime_format or "%Y-%m-%d")
