"""Conditional generation benchmark (issue 12): conditions met, conditional shape, augmentation, time; SDV alongside.

The user's path: each table is read as an upload and split the app's way; every generator is trained through
``models.jobs.train_model`` (the Train step, with a time budget); rows are made through
``models.synthesis.synthesize`` (the Export step: chunks, exact-copy filter) with the request the Export step
and ``cli.py --where/--balance`` build. Per table one case: a minority class of a category or yes/no column
(the target) and a numeric column for a range (above its 90th percentile). Measured per generator:

- met: share of rows meeting the request, for the target class fixed, the range, and a 50/50 mix (the mix's
  share is the larger of the two values' shares, 0.50 when exact).
- shape: sdmetrics Column Shapes of the other columns, rows made with the target class fixed against the
  unseen real rows of that class (the app's holdout plus fresh rows of the same source), next to the
  unconditional Column Shapes (unconditional rows against all unseen rows). The ceiling (training rows,
  same comparisons) shows how much the smaller conditional sample lowers the score by itself. For generators
  with a native way, "draw-and-keep" is the same model with it switched off (free draws, matches kept): the
  model's own conditional, so a gap that both share belongs to the model, not to its way of conditioning.
- augmentation: a boosted-tree classifier (the ML usefulness test's) for "is the target class", trained on the
  training rows, then on the training rows plus synthetic rows of the class (as many as even it out with the
  rest), scored on the unseen rows: minority recall (threshold 0.5) and ROC AUC for both.
- time: 100,000 rows with the target class fixed against 100,000 rows without conditions (same model, same
  path, wall clock), as a ratio.

SDV GaussianCopula is the anchor: fitted on the training rows (wall clock), ``sample_from_conditions`` for the
fixed class and ``sample`` without, on the same measures (its reject sampling may give up on rare classes).

    python bench/conditional.py                                   # telco and insurance, every generator
    python bench/conditional.py --datasets telco --generators copula,bayesnet --budget 30
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import recall_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import BenchTable, bench_table  # noqa: E402
from bench.privacy import fit  # noqa: E402
from bench.report import markdown_table  # noqa: E402
from evaluation.conditional import without  # noqa: E402
from evaluation.features import FeatureMap  # noqa: E402
from evaluation.sdmetrics_bridge import quality_report  # noqa: E402
from evaluation.utility import TREE_SETTINGS  # noqa: E402
from models.synthesis import synthesize  # noqa: E402
from tabular.conditions import Condition, ConditionError, Conditions, Mix  # noqa: E402
from tabular.privacy import PrivacySettings  # noqa: E402
from tabular.schema import TableSchema  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CASES = {  # table: (target column, minority value as the column holds it, numeric column for a range)
    "telco": ("churn", True, "monthly_charges"),
    "insurance": ("insurance", False, "age"),
    "loans": ("homeownership", "OWN", "annual_income"),
    "hotels": ("market_segment", "corporate", "avg_price_per_room"),
}
ROWS = 2_000  # rows per request for "met" and "shape"
TIME_ROWS = int(os.environ.get("BENCH_TIME_ROWS", 100_000))
SHAPE_GAP, TIME_RATIO, AUC_LOSS = 0.05, 3.0, 0.02  # the targets
NAMES = ["autoregressive", "diffusion", "copula", "bayesnet", "gan", "rbm", "vae", "flow"]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def unseen(table: BenchTable) -> pd.DataFrame:
    return pd.concat([table.rows.holdout, table.fresh], ignore_index=True)


def requests(table: BenchTable) -> dict[str, Conditions]:
    target, value, number = CASES[table.key]
    edge = float(pd.to_numeric(table.train[number], errors="coerce").quantile(0.9))
    other = table.train[target].dropna().map(str).value_counts().index
    other = next(v for v in other if v != str(value))
    other = {"True": True, "False": False}.get(other, other) if isinstance(value, bool) else other
    return {"fixed": Conditions((Condition(target, "=", value),)),
            "range": Conditions((Condition(number, ">", edge),)),
            "mix": Conditions((), Mix(target, ((value, 0.5), (other, 0.5))))}


def shapes(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(quality_report(real, synthetic, schema)["column_shapes"])


def shape_pair(table: BenchTable, fixed_rows: pd.DataFrame, free_rows: pd.DataFrame, fixed: Conditions) -> dict:
    """Conditional shapes (other columns, against unseen rows of the class) and unconditional shapes."""
    column = fixed.where[0].column
    real = unseen(table)
    others = without(table.schema, {column})
    return {"shape_cond": shapes(real[fixed.met(real)], fixed_rows, others),
            "shape_free": shapes(real, free_rows, others)}


def augmentation(table: BenchTable, extra: pd.DataFrame | None, fixed: Conditions) -> dict:
    """Minority recall and ROC AUC on unseen rows, trained on real rows alone and with ``extra`` added."""
    column = fixed.where[0].column
    features = [c for c in FeatureMap(table.schema).columns if c != column]
    fmap = FeatureMap(table.schema, features).fit(table.train)
    test = unseen(table)
    y_test = fixed.met(test)
    out = {}
    for label, rows in (("real", table.train), ("augmented", None if extra is None else
                                                 pd.concat([table.train, extra], ignore_index=True))):
        if rows is None:
            continue
        model = HistGradientBoostingClassifier(**TREE_SETTINGS).fit(fmap.for_trees(rows), fixed.met(rows))
        p = model.predict_proba(fmap.for_trees(test))[:, 1]
        out[f"recall_{label}"] = float(recall_score(y_test, p >= 0.5))
        out[f"auc_{label}"] = float(roc_auc_score(y_test, p))
    return out


def balancing_rows(table: BenchTable, fixed: Conditions) -> int:
    have = int(fixed.met(table.train).sum())
    return max(len(table.train) - 2 * have, 0)


def met_share(rows: pd.DataFrame, request: Conditions) -> float:
    if request.mix is not None:
        counts = rows[request.mix.column].map(str).value_counts(normalize=True)
        return float(counts.max()) if len(counts) == 2 else 0.0
    return float(request.met(rows).mean()) if len(rows) else 0.0


def timed(make) -> tuple[object, float]:
    started = time.perf_counter()
    out = make()
    return out, time.perf_counter() - started


def ours(table: BenchTable, name: str, budget: float) -> dict:
    asked = requests(table)
    (trained, fit_s) = timed(lambda: fit(table, name, "balanced", PrivacySettings(), budget=budget))
    model = trained.model
    row = {"dataset": table.key, "who": name, "native": model.native_conditions or "draw and keep",
           "fit_s": fit_s}
    made = {}
    for key, request in asked.items():
        try:
            made[key] = synthesize(model, ROWS, seed=1, real=table.train, conditions=request).frame
            row[f"met_{key}"] = met_share(made[key], request)
        except ConditionError as exc:
            row[f"met_{key}"], row[f"error_{key}"] = 0.0, str(exc)
    free = synthesize(model, ROWS, seed=1, real=table.train).frame
    if "fixed" in made:
        row.update(shape_pair(table, made["fixed"], free, asked["fixed"]))
        if model.native_conditions:  # the same model drawing freely and keeping matches: its own conditional
            row["shape_keep"] = shape_pair(table, kept_rows(model, table, asked["fixed"]), free,
                                           asked["fixed"])["shape_cond"]
        extra = synthesize(model, balancing_rows(table, asked["fixed"]), seed=2, real=table.train,
                           conditions=asked["fixed"]).frame
        row.update(augmentation(table, extra, asked["fixed"]))
        _, row["time_free_s"] = timed(lambda: synthesize(model, TIME_ROWS, seed=3, real=table.train))
        _, row["time_cond_s"] = timed(lambda: synthesize(model, TIME_ROWS, seed=3, real=table.train,
                                                         conditions=asked["fixed"]))
    return row


def kept_rows(model, table: BenchTable, fixed: Conditions) -> pd.DataFrame:
    """Rows meeting ``fixed`` made by drawing freely and keeping matches (the native way switched off)."""
    from models.base import Generator

    cls = type(model)
    native = cls.__dict__["_sample_given"]
    cls._sample_given = Generator._sample_given
    try:
        return synthesize(model, ROWS, seed=1, real=table.train, conditions=fixed).frame
    finally:
        cls._sample_given = native


def sdv_anchor(table: BenchTable) -> dict:
    """SDV GaussianCopula's conditional sampling on the same requests (its reject sampling)."""
    from sdv.metadata import Metadata
    from sdv.sampling import Condition as SdvCondition
    from sdv.single_table import GaussianCopulaSynthesizer

    from bench.generators import typed
    from evaluation.sdmetrics_bridge import metadata_for, plain_frame

    asked = requests(table)
    meta = Metadata.load_from_dict({"tables": {"table": metadata_for(table.schema)}, "METADATA_SPEC_VERSION": "V1"})
    synth = GaussianCopulaSynthesizer(meta)
    row = {"dataset": table.key, "who": "SDV GaussianCopula", "native": "reject sampling"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = {"table": plain_frame(table.train, table.schema).reset_index(drop=True)}
        _, row["fit_s"] = timed(lambda: synth.fit(data))
        fixed = asked["fixed"].where[0]

        def conditional(n: int) -> pd.DataFrame:
            out = synth.sample_from_conditions([SdvCondition({fixed.column: fixed.value}, num_rows=n)])
            return typed(out["table"] if isinstance(out, dict) else out, table)

        def free(n: int) -> pd.DataFrame:
            out = synth.sample(n)
            return typed(out["table"] if isinstance(out, dict) else out, table)

        try:
            rows = conditional(ROWS)
            row["met_fixed"] = met_share(rows, asked["fixed"])
            row.update(shape_pair(table, rows, free(ROWS), asked["fixed"]))
            row.update(augmentation(table, conditional(balancing_rows(table, asked["fixed"])), asked["fixed"]))
            _, row["time_free_s"] = timed(lambda: free(TIME_ROWS))
            _, row["time_cond_s"] = timed(lambda: conditional(TIME_ROWS))
        except Exception as exc:  # SDV's "Unable to sample any rows" and the like: recorded, not fatal
            row["error_fixed"] = f"{type(exc).__name__}: {exc}"[:200]
    return row


def ceiling(table: BenchTable) -> dict:
    asked = requests(table)
    fixed = asked["fixed"]
    rows = table.train[fixed.met(table.train)]
    return {"dataset": table.key, "who": "ceiling (training rows)", "native": "-",
            **shape_pair(table, rows, table.train, fixed), **augmentation(table, None, fixed)}


# ----- report ---------------------------------------------------------------------------------------------------
def _f(value, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.{digits}f}"


def result_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        gap = (r["shape_free"] - r["shape_cond"]) if "shape_cond" in r else None
        ratio = r["time_cond_s"] / r["time_free_s"] if r.get("time_free_s") else None
        loss = (r["auc_real"] - r["auc_augmented"]) if "auc_augmented" in r else None
        native = r["native"] not in ("draw and keep", "-", "reject sampling")
        out.append({
            "table": r["dataset"], "generator": r["who"], "how": r["native"],
            "met fixed / range / mix": " / ".join(_f(r.get(f"met_{k}"), 2) for k in ("fixed", "range", "mix")),
            "shape cond (free)": f"{_f(r.get('shape_cond'))} ({_f(r.get('shape_free'))})",
            "cond, draw-and-keep": _f(r.get("shape_keep")),
            "gap <= 0.05": "-" if gap is None else ("yes" if gap <= SHAPE_GAP else "NO") + (" (native)" if native else ""),
            "recall real -> aug": f"{_f(r.get('recall_real'), 2)} -> {_f(r.get('recall_augmented'), 2)}",
            "AUC real -> aug": f"{_f(r.get('auc_real'))} -> {_f(r.get('auc_augmented'))}",
            "aug useful": "-" if loss is None else ("yes" if r["recall_augmented"] > r["recall_real"] and loss <= AUC_LOSS
                                                    else "NO"),
            "100k cond / free (s)": "-" if ratio is None else f"{r['time_cond_s']:.1f} / {r['time_free_s']:.1f}",
            "ratio <= 3": "-" if ratio is None else ("yes" if ratio <= TIME_RATIO else "NO") + (" (native)" if native else ""),
        })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="telco,insurance")
    parser.add_argument("--generators", default=",".join(NAMES))
    parser.add_argument("--budget", type=float, default=60.0, help="Train step time budget per generator (s)")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "conditional.md"))
    args = parser.parse_args()
    rows = []
    for key in args.datasets.split(","):
        table = bench_table(key)
        if not args.no_ceiling:
            rows.append(ceiling(table))
        if not args.no_anchor:
            rows.append(sdv_anchor(table))
            _log(f"{key}: SDV {rows[-1]}")
        for name in args.generators.split(","):
            rows.append(ours(table, name, args.budget))
            _log(f"{key}: {name} {json.dumps(rows[-1], default=str)}")
            Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1, default=str))
    command = "python bench/conditional.py " + " ".join(sys.argv[1:])
    text = (f"# Conditional generation (issue 12)\n\n`{command}`\n\n" + markdown_table(result_rows(rows)) + "\n\n"
            + "\n".join(f"- {r['dataset']} {r['who']} {k}: {v}" for r in rows for k, v in r.items()
                        if k.startswith("error_")) + "\n")
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
