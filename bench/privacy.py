"""Privacy benchmark: planted canaries, the cost of the protections, and differential privacy at 1, 3 and 10.

Everything takes the user's path: the benchmark tables are read from CSV as an upload is, split 80/20 as the
app splits them, trained through ``models.jobs.train_model`` (the function behind the Train step and
``cli.py generate``) and sampled through ``models.synthesis.synthesize`` (the Export step's exact-copy filter).
Quality is sdmetrics' Quality Score against the unseen 20%, next to the ceiling (training rows scored against
the same unseen rows) and, in the same run, the anchors: SDV's GaussianCopula and synthpop's CART (fitted as in
``bench/generators.py``; they have no privacy options, so they show what an unprotected tool gives).

    python bench/privacy.py                      # all three sections (about half an hour on 2 cores)
    python bench/privacy.py --section canary     # or protections, dp
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import DATASETS, BenchTable, bench_table  # noqa: E402
from bench.report import markdown_table  # noqa: E402
from evaluation import canaries  # noqa: E402
from evaluation.sdmetrics_bridge import quality_report  # noqa: E402
from models import registry  # noqa: E402
from models.jobs import RowSplit, TrainingRequest, train_model  # noqa: E402
from models.synthesis import synthesize  # noqa: E402
from tabular.privacy import EPSILON_CHOICES, PrivacySettings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"  # privacy_<section>.md
CANARY_ROWS = 100_000


def fit(table: BenchTable, name: str, preset: str, privacy: PrivacySettings, rows: RowSplit | None = None,
        overrides: dict | None = None, budget: float | None = None):
    """Train as the app does and time it the same way for every run (the fit's own clock); ``budget``: the
    Train step's time budget in seconds."""
    request = TrainingRequest(name, preset, overrides or {}, budget_seconds=budget, privacy=privacy.to_dict())
    return train_model(request, rows or table.rows, table.schema)


def quality(table: BenchTable, synthetic: pd.DataFrame) -> float:
    return float(quality_report(table.rows.holdout, synthetic, table.schema)["quality"])


def anchors(table: BenchTable, rows: int | None = None) -> dict[str, pd.DataFrame]:
    """The anchors' synthetic rows (SDV's copula, synthpop's CART; no privacy options), fitted on every
    training row as ``bench/generators.py`` fits them."""
    return {who: synthetic for who, (synthetic, _) in anchor_runs(table, rows).items()}


def anchor_runs(table: BenchTable, rows: int | None = None) -> dict[str, tuple[pd.DataFrame, dict]]:
    """The anchors' synthetic rows with their run's figures (``fit_s``: wall clock around the fit call,
    ``rows_per_s``: around the sampling call)."""
    from bench.generators import run_cart, run_sdv

    return {"SDV GaussianCopula": run_sdv(table, "copula", 1, rows), "synthpop CART": run_cart(table, rows)}


def canary_rows(table: BenchTable, names: list[str], preset: str) -> list[dict]:
    """Canaries planted once in the training rows, looked for in 100,000 synthetic rows and the model file."""
    planted, found = canaries.plant(table.rows.fit, table.schema, np.random.default_rng(7))
    rows = RowSplit(planted, table.rows.validation, table.rows.holdout)
    runs = [(name, PrivacySettings()) for name in names] + [("copula", PrivacySettings.off())]
    out = []
    for name, privacy in runs:
        trained = fit(table, name, preset, privacy, rows)
        result = synthesize(trained.model, CANARY_ROWS, seed=1, real=planted)
        leaks = canaries.leaks(found, result.frame, trained.model.to_bytes())
        out.append(_canary_row(name, "on" if privacy.protect else "OFF (control)", len(found), leaks, True))
    planted_table = dataclasses.replace(table, rows=rows)
    for name, synthetic in anchors(planted_table, CANARY_ROWS).items():
        out.append(_canary_row(name, "(none)", len(found), canaries.leaks(found, synthetic, None), False))
    return out


def _canary_row(who: str, protections: str, planted: int, leaks: list, own_file: bool) -> dict:
    return {"generator": who, "protections": protections, "canaries": planted,
            "in 100,000 rows": sum(leak.rows > 0 for leak in leaks),
            "in model file": sum(leak.in_file for leak in leaks) if own_file else "n/a",
            "verdict": "no leak" if not leaks else "; ".join(leak.sentence for leak in leaks[:2])}


def protection_rows(keys: list[str], names: list[str], preset: str) -> list[dict]:
    """Quality on unseen rows with protections on and off, per dataset and generator."""
    out = []
    for key in keys:
        table = bench_table(key)
        top = quality(table, table.train)
        anchor = {who: quality(table, rows) for who, rows in anchors(table).items()}
        for name in names:
            scores = {}
            for label, privacy in (("off", PrivacySettings.off()), ("on", PrivacySettings())):
                trained = fit(table, name, preset, privacy)
                scores[label] = quality(table, synthesize(trained.model, len(table.train), seed=1,
                                                          real=table.train).frame)
            drop = scores["off"] - scores["on"]
            out.append({"dataset": key, "generator": name, "ceiling": top, "quality off": scores["off"],
                        "quality on": scores["on"], "drop": drop, "within 0.01": "yes" if drop <= 0.01 else "NO",
                        "SDV copula": anchor["SDV GaussianCopula"], "CART": anchor["synthpop CART"],
                        "on / CART": scores["on"] / anchor["synthpop CART"]})
    return out


def membership_auc(table: BenchTable, synthetic: pd.DataFrame) -> float | None:
    """The membership-inference attack's AUC (0.5: cannot tell training rows from unseen ones)."""
    from evaluation.membership import membership_risk

    result = membership_risk(table.train, table.rows.holdout, synthetic, table.schema, seed=0)
    return None if result is None else float(result.auc)


def dp_rows(table: BenchTable, names: list[str], preset: str, epsilons: list[float]) -> list[dict]:
    """Each private generator without DP and at every epsilon: quality, attack AUC, fit time and its ratio;
    after the ceiling (the training rows themselves, i.e. a generator that copies) and the anchors."""
    from opacus.accountants import RDPAccountant  # noqa: F401  (imported once here, not inside the first timing)

    references = {"ceiling (training rows)": table.train, **anchors(table)}
    scores = {who: quality(table, rows) for who, rows in references.items()}
    cart = scores["synthpop CART"]
    out = [{"generator": who, "epsilon": "-", "spent": "-", "quality": scores[who],
            "quality / CART": scores[who] / cart, "attack AUC": membership_auc(table, rows)}
           for who, rows in references.items()]
    for name in names:
        base = None
        for epsilon in [None, *epsilons]:
            started = time.perf_counter()
            trained = fit(table, name, preset, PrivacySettings(epsilon=epsilon))
            seconds = time.perf_counter() - started
            per_epoch = seconds / max(trained.report.epochs_run, 1)
            base = base or per_epoch
            synthetic = synthesize(trained.model, len(table.train), seed=1, real=table.train).frame
            spent, score = trained.model.epsilon_spent, quality(table, synthetic)
            out.append({"generator": name, "epsilon": "none" if epsilon is None else f"{epsilon:g}",
                        "spent": "-" if spent is None else f"{spent:.2f}", "quality": score,
                        "quality / CART": score / cart,
                        "attack AUC": membership_auc(table, synthetic), "fit s": seconds,
                        "epochs": trained.report.epochs_run, "s per epoch vs non-private": per_epoch / base})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["canary", "protections", "dp", "all"], default="all")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--dp-dataset", default="telco")
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--generators", nargs="+", default=registry.names())
    args = parser.parse_args()
    parts = [f"# Privacy benchmark\n\n`python bench/privacy.py --section {args.section} --preset {args.preset}`"
             f" ({'/'.join(args.generators)}).\n"]
    if args.section in ("canary", "all"):
        rows = canary_rows(bench_table(args.dp_dataset), args.generators, args.preset)
        parts.append(f"## Canaries ({args.dp_dataset})\n\n" + markdown_table(rows))
    if args.section in ("protections", "all"):
        quick = [g for g in args.generators if g in ("copula", "vae", "bayesnet")] or args.generators[:1]
        rows = protection_rows(args.datasets, quick, args.preset)
        parts.append("## Protections on vs off (quality on unseen rows)\n\n" + markdown_table(rows))
    if args.section in ("dp", "all"):
        private = [g for g in args.generators if registry.generator_class(g).supports_dp]
        rows = dp_rows(bench_table(args.dp_dataset), private, args.preset, list(EPSILON_CHOICES))
        parts.append(f"## Differential privacy ({args.dp_dataset})\n\n" + markdown_table(rows))
    text = "\n\n".join(parts)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"privacy_{args.section}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
