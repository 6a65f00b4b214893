"""Benchmark: read and profile a 1,000,000 x 20 CSV; compare with a plain pandas.read_csv in the same run.

Usage: python bench/read_profile.py [--rows N]
Each measurement runs in a fresh process so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
TARGET_MB = 2048


def make_csv(path: Path, rows: int) -> None:
    """A realistic mixed table: numbers, whole numbers, categories, dates, yes/no, IDs and text."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "order_id": np.arange(rows) + 100_000,
        "amount": np.round(rng.lognormal(3, 1, rows), 2),
        "discount": np.round(rng.uniform(0, 0.3, rows), 3),
        "weight_kg": np.round(rng.normal(5, 2, rows), 1),
        "score": rng.normal(0, 1, rows),
        "tax": np.round(rng.gamma(2, 3, rows), 2),
        "quantity": rng.integers(1, 20, rows),
        "age": rng.integers(18, 90, rows),
        "visits": rng.poisson(3, rows),
        "year": rng.integers(1990, 2025, rows),
        "rating": rng.integers(1, 6, rows),
        "country": rng.choice(["DE", "FR", "US", "UK", "ES", "IT", "NL", "PL"], rows),
        "plan": rng.choice(["basic", "pro", "enterprise"], rows, p=[0.6, 0.3, 0.1]),
        "channel": rng.choice(["web", "store", "phone", "partner"], rows),
        "segment": rng.choice([f"seg_{i}" for i in range(40)], rows),
        "ordered": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
        "shipped_at": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500 * 86400, rows), unit="s"),
        "returned": rng.choice(["yes", "no"], rows, p=[0.1, 0.9]),
        "sku": [f"SKU-{i:07d}" for i in rng.permutation(rows)],
        "comment": rng.choice(["fast delivery and good price", "item arrived damaged, asked for refund",
                               "ok", "would buy again from this shop", ""], rows),
    })
    frame["ordered"] = frame["ordered"].dt.strftime("%d/%m/%Y")
    frame.to_csv(path, index=False)


# Peak resident memory of this process alone (VmHWM; ru_maxrss would include the parent's at fork).
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

OURS = PEAK + """
import sys, time, json
sys.path.insert(0, {root!r})
from tabular.dataset import load_dataset
t0 = time.perf_counter()
ds = load_dataset({path!r})
t1 = time.perf_counter()
profiles = ds.profiles()
t2 = time.perf_counter()
kinds = {{c.name: c.kind.value for c in ds.schema.columns}}
print(json.dumps({{"read_infer": t1 - t0, "profile": t2 - t1, "rss_mb": peak_mb(),
                  "rows": ds.n_rows, "kinds": kinds}}))
"""

ANCHOR = PEAK + """
import time, json
import pandas as pd
t0 = time.perf_counter()
df = pd.read_csv({path!r})
t1 = time.perf_counter()
print(json.dumps({{"read": t1 - t0, "rss_mb": peak_mb()}}))
"""


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        t = time.perf_counter()
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"Generated {args.rows:,} x 20 CSV ({size_mb:.0f} MB) in {time.perf_counter() - t:.1f} s\n")
        ours = run(OURS.format(root=str(ROOT), path=str(path)))
        anchor = run(ANCHOR.format(path=str(path)))
    total = ours["read_infer"] + ours["profile"]
    rows = [
        ("Synthetic Data Studio: read + kinds", f"{ours['read_infer']:.2f}", "", ""),
        ("Synthetic Data Studio: profile", f"{ours['profile']:.2f}", "", ""),
        ("Synthetic Data Studio: total", f"{total:.2f}", f"{ours['rss_mb']:.0f}",
         "yes" if total <= TARGET_SECONDS and ours["rss_mb"] <= TARGET_MB else "NO"),
        ("pandas.read_csv (anchor, no profiling)", f"{anchor['read']:.2f}", f"{anchor['rss_mb']:.0f}", ""),
    ]
    print(f"| step | seconds | peak memory (MB) | within {TARGET_SECONDS:.0f} s / {TARGET_MB} MB |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nRatio to pandas.read_csv: time x{total / anchor['read']:.2f}, memory x{ours['rss_mb'] / anchor['rss_mb']:.2f}")
    print("Kinds found:", ", ".join(f"{k}={v}" for k, v in ours["kinds"].items()))


if __name__ == "__main__":
    main()
