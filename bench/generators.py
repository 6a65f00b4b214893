"""Benchmark: our generators against SDV and synthpop's CART on real tables, judged on rows nobody learned.

Usage: python bench/generators.py [--datasets telco,loans,...] [--generators autoregressive,diffusion,...]
       [--epochs 100] [--draws 3] [--anchors/--no-anchors] [--concurrency/--no-concurrency] [--out FILE]

Protocol (bench/datasets.py): each table is cut to 6,250 random rows, read as a user's CSV upload and
split the app's way (models.jobs.split_rows): 1,250 unseen rows, 5,000 training rows of which 500 watch
the fit. Ours train through models.jobs.train_model, the code path of the app and `cli.py generate`
(thread policy included), and report the fit time the user sees. Every synthesizer writes 5,000 rows,
read back through our schema, and is scored with sdmetrics' QualityReport against the UNSEEN rows; the
ceiling is the 5,000 training rows scored against the same unseen rows. Privacy: sdmetrics'
DCROverfittingProtection with equal-sized samples (1,250 training rows, 1,250 synthetic rows, the 1,250
unseen rows), averaged over --draws draws; "fresh real rows" (rows outside the user's file) show what a
generator that memorises nothing scores. Exact copies: share of synthetic rows equal to a training row,
next to the share of unseen real rows that equal one by chance.
Runs: "balanced" is ours as the app ships it (Balanced preset, early stopping); "same epochs" gives our
VAE and GAN and SDV's TVAE and CTGAN the same epochs on the same 5,000 rows (no early stopping).
Anchors (requirements-bench.txt): SDV GaussianCopula, TVAE, CTGAN; synthpop-py CART (dates given to it as
day numbers, which it cannot read otherwise). Prints markdown tables; raw rows go to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import DATASETS, BenchTable, bench_table  # noqa: E402
from evaluation.sdmetrics_bridge import metadata_for, plain_frame, quality_report, scored_columns  # noqa: E402
from models import registry  # noqa: E402
from models.jobs import RowSplit, TrainingRequest, train_model  # noqa: E402
from tabular.matching import copied_rows  # noqa: E402
from tabular.schema import Kind  # noqa: E402

OURS = ["autoregressive", "diffusion", "copula", "vae", "gan"]
SAME_EPOCHS = {"vae": "SDV TVAE", "gan": "SDV CTGAN"}
TRUE_WORDS = ("true", "1", "1.0", "yes")
BUDGET_S = 180  # the Balanced preset's best must train within 3 minutes


def typed(frame: pd.DataFrame, table: BenchTable) -> pd.DataFrame:
    """Another tool's output (Python values of the plain frame it was given) in our typed columns."""
    out = {}
    for spec in table.schema.modelled():
        if spec.name not in frame:  # a constant column, which the tools are not given: it is the same everywhere
            out[spec.name] = table.train[spec.name].iloc[np.zeros(len(frame), dtype=int)].reset_index(drop=True)
            continue
        values = frame[spec.name]
        if spec.kind is Kind.YES_NO:
            out[spec.name] = values.map(lambda v: None if pd.isna(v) else str(v).strip().lower() in TRUE_WORDS
                                        ).astype("boolean")
        elif spec.kind is Kind.WHOLE_NUMBER:
            out[spec.name] = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif spec.kind is Kind.NUMBER:
            out[spec.name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif spec.kind is Kind.DATETIME:
            out[spec.name] = pd.to_datetime(values, errors="coerce")
        else:
            out[spec.name] = values.astype(object).where(values.notna(), None).astype(pd.StringDtype("pyarrow"))
    return pd.DataFrame(out)


def dcr_protection(table: BenchTable, synthetic: pd.DataFrame, draws: int) -> float | None:
    """sdmetrics' DCROverfittingProtection, equal-sized samples, averaged over ``draws`` draws."""
    from sdmetrics.single_table import DCROverfittingProtection

    holdout = table.rows.holdout
    n = min(len(holdout), len(synthetic), len(table.train))
    if not n:
        return None
    meta, scores = metadata_for(table.schema), []
    unseen = plain_frame(holdout.sample(n, random_state=0), table.schema).reset_index(drop=True)
    for draw in range(draws):
        train = plain_frame(table.train.sample(n, random_state=draw), table.schema).reset_index(drop=True)
        synth = plain_frame(synthetic.sample(n, random_state=100 + draw), table.schema).reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores.append(DCROverfittingProtection.compute(train, synth, unseen, meta, None))
    return float(np.mean(scores))


def scores(table: BenchTable, synthetic: pd.DataFrame, draws: int) -> dict:
    quality = quality_report(table.rows.holdout, synthetic, table.schema)
    return {"quality": quality["quality"], "shapes": quality["column_shapes"],
            "trends": quality["column_pair_trends"], "dcr": dcr_protection(table, synthetic, draws),
            "copies": copies(synthetic, table.train, table)}


def copies(rows: pd.DataFrame, train: pd.DataFrame, table: BenchTable) -> float:
    """Share of ``rows`` equal to a training row on every column the tools were given."""
    return float(copied_rows(rows, train, table.schema, scored_columns(table.schema)).mean())


def ceiling(table: BenchTable) -> dict:
    """The training rows scored against the unseen rows; copies: how often unseen rows equal a training row."""
    quality = quality_report(table.rows.holdout, table.train, table.schema)
    unseen = copies(table.rows.holdout, table.train, table)
    return {"dataset": table.key, "who": "ceiling (training rows)", "run": "-", "quality": quality["quality"],
            "shapes": quality["column_shapes"], "trends": quality["column_pair_trends"], "dcr": None,
            "copies": unseen, "unseen_copies": unseen}


def run_ours(table: BenchTable, name: str, epochs: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Train as the app does; ``epochs`` gives a same-epochs run on every training row, no early stop."""
    if epochs is None:
        request, rows = TrainingRequest(name, "balanced"), table.rows
    else:
        request = TrainingRequest(name, "balanced", {"epochs": epochs})
        rows = RowSplit(table.train, None, table.rows.holdout)
    trained = train_model(request, rows, table.schema)
    start = time.perf_counter()
    synthetic = trained.model.sample(len(table.train), seed=1)
    rate = len(synthetic) / (time.perf_counter() - start)
    report = trained.report
    return synthetic, {"fit_s": report.seconds, "epochs": report.epochs_run, "threads": report.threads,
                       "rows_per_s": rate}


def run_sdv(table: BenchTable, name: str, epochs: int, rows: int | None = None) -> tuple[pd.DataFrame, dict]:
    """SDV's synthesizer ``name`` fitted on every training row; ``rows`` sampled (default: as many)."""
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

    meta = Metadata.load_from_dict({"tables": {"table": metadata_for(table.schema)}, "METADATA_SPEC_VERSION": "V1"})
    cls = {"copula": GaussianCopulaSynthesizer, "vae": TVAESynthesizer, "gan": CTGANSynthesizer}[name]
    synthesizer = cls(meta) if name == "copula" else cls(meta, epochs=epochs)
    data = plain_frame(table.train, table.schema).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        synthesizer.fit({"table": data})
        fit = time.perf_counter() - start
        start = time.perf_counter()
        out = synthesizer.sample(rows or len(data))
    rate = (rows or len(data)) / (time.perf_counter() - start)
    out = out["table"] if isinstance(out, dict) else out
    return typed(out, table), {"fit_s": fit, "epochs": epochs if name != "copula" else 1, "rows_per_s": rate}


def run_cart(table: BenchTable, rows: int | None = None) -> tuple[pd.DataFrame, dict]:
    """synthpop-py's sequential CART with its defaults; dates handed over as day numbers."""
    from synthpop import Synthesiser
    from synthpop.methods import CartMethod

    data = plain_frame(table.train, table.schema).reset_index(drop=True)
    dates = [c.name for c in table.schema.modelled() if c.kind is Kind.DATETIME and c.name in data]
    for name in dates:
        data[name] = (data[name] - pd.Timestamp(0)).dt.total_seconds() / 86400
    note = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        try:
            synthesizer = Synthesiser(random_seed=0).fit(data)
        except ValueError as exc:  # it refuses predictors with rare categories unless told otherwise
            note = f"rare-category check off ({str(exc)[:60]}...)"
            start = time.perf_counter()
            synthesizer = Synthesiser(random_seed=0,
                                      default_syn_method=CartMethod(rare_categories_threshold=0)).fit(data)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        out = synthesizer.generate(n=rows or len(data))
    rate = (rows or len(data)) / (time.perf_counter() - start)
    for name in dates:
        out[name] = pd.to_datetime(pd.to_numeric(out[name]) * 86400, unit="s")
    return typed(out, table), {"fit_s": fit, "epochs": None, "rows_per_s": rate, "note": note}


def bench_dataset(key: str, generators: list[str], epochs: int, draws: int, anchors: bool) -> list[dict]:
    table = bench_table(key)
    rows: list[dict] = []

    def record(who: str, run: str, synthetic: pd.DataFrame, info: dict) -> None:
        rows.append({"dataset": key, "who": who, "run": run, **info, **scores(table, synthetic, draws)})
        r = rows[-1]
        print(f"  {key}: {who} [{run}] quality {r['quality']:.3f} dcr {r['dcr']:.3f} fit {r.get('fit_s') or 0:.1f}s",
              file=sys.stderr, flush=True)

    rows.append(ceiling(table))
    if len(table.fresh) >= 500:  # fewer fresh rows than unseen ones: the samples shrink to match
        record("fresh real rows", "-", table.fresh, {})
    for name in generators:
        synthetic, info = run_ours(table, name)
        record(f"ours {name}", "balanced", synthetic, info)
        if name in SAME_EPOCHS:
            synthetic, info = run_ours(table, name, epochs)
            record(f"ours {name}", f"same epochs ({epochs})", synthetic, info)
    if anchors:
        for name, who in (("copula", "SDV GaussianCopula"), ("vae", "SDV TVAE"), ("gan", "SDV CTGAN")):
            synthetic, info = run_sdv(table, name, epochs)
            record(who, "same epochs" + (f" ({epochs})" if name != "copula" else ""), synthetic, info)
        try:
            synthetic, info = run_cart(table)
            record("synthpop CART", "defaults", synthetic, info)
        except Exception as exc:  # an anchor that cannot read a table is reported, not fatal
            rows.append({"dataset": key, "who": "synthpop CART", "run": f"failed: {type(exc).__name__}: {exc}"[:120]})
    return rows


def concurrency(key: str, name: str) -> dict:
    """Fit time of one training alone, then of two at once (each in its own thread, as the app runs them)."""
    table = bench_table(key)
    alone = train_model(TrainingRequest(name, "balanced"), table.rows, table.schema).report.seconds
    times: list[float] = []

    def one() -> None:
        times.append(train_model(TrainingRequest(name, "balanced"), table.rows, table.schema).report.seconds)

    workers = [threading.Thread(target=one) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"dataset": key, "generator": name, "alone_s": alone, "together_s": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--generators", default=",".join(OURS))
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the same-epochs runs")
    parser.add_argument("--draws", type=int, default=3, help="draws averaged for DCROverfittingProtection")
    parser.add_argument("--anchors", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--concurrency", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default="bench/results/generators.json")
    args = parser.parse_args()
    rows: list[dict] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for key in args.datasets.split(","):
        rows.extend(bench_dataset(key, args.generators.split(","), args.epochs, args.draws, args.anchors))
        out.write_text(json.dumps({"rows": rows}, indent=2))  # kept dataset by dataset: a long run can stop
    extra = {"concurrency": concurrency("telco", registry.recommended(6250, 20))} if args.concurrency else {}
    out.write_text(json.dumps({"rows": rows, **extra}, indent=2))
    from bench.report import print_report

    print_report(rows, extra.get("concurrency"))


if __name__ == "__main__":
    main()
