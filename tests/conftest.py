"""Shared fixtures: a small mixed table with missing values, dates, IDs and personal data."""

import atexit
import os
import shutil
import tempfile

import numpy as np
import pandas as pd
import pytest

from tabular.dataset import Dataset, load_dataset

# Projects written by tests (and by the app the browser tests start) go to a throwaway folder, removed when the
# run ends (each run left 25 MB behind in /tmp).
if not os.environ.get("SDS_WORKSPACE"):  # unset or empty (empty would mean the real workspace_data)
    os.environ["SDS_WORKSPACE"] = tempfile.mkdtemp(prefix="sds-workspace-")
    atexit.register(shutil.rmtree, os.environ["SDS_WORKSPACE"], ignore_errors=True)


def kinds_table(n: int, seed: int) -> tuple[pd.DataFrame, np.random.Generator]:
    """``kind`` a (70%), b (25%), c (5%) and ``amount`` around 10, 50 or 200 by kind; the generator goes on to
    draw a third column that follows the kind its own way (the conditional-sampling tests)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b", "c"], n, p=[0.7, 0.25, 0.05])
    amount = np.round(np.select([kind == "a", kind == "b"], [10.0, 50.0], 200.0) * rng.lognormal(0, 0.2, n), 2)
    return pd.DataFrame({"kind": kind, "amount": amount}), rng


def mixed_csv(n: int = 240, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "enterprise"], n, p=[0.6, 0.3, 0.1])
    spend = np.round(rng.lognormal(3, 0.5, n) * np.where(plan == "pro", 2, 1), 2)
    rows = ["customer_id,email,plan,spend,visits,active,joined,region,note"]
    for i in range(n):
        visits = "" if i % 11 == 0 else str(int(rng.poisson(4)))
        region = "" if i % 7 == 0 else rng.choice(["north", "south", "east", "west", "centre"])
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 500)))
        rows.append(f"C{i:05d},user{i}@example.com,{plan[i]},{spend[i]},{visits},{rng.choice(['yes', 'no'])},"
                    f"{day:%Y-%m-%d},{region},fixed")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="session")
def mixed() -> Dataset:
    return load_dataset(mixed_csv(), "mixed.csv")
