"""Family benchmark (issue 11): every generator and `auto` against the anchors, and a "Which should I pick?" table.

Same protocol as ``bench/privacy.py``, all in one run per dataset: the table is read as an upload and split the
app's way; the ceiling (training rows scored against the unseen rows); the anchors SDV GaussianCopula and
synthpop CART (``bench/generators.py``; fit time is the wall clock around their fit call); then every generator
through ``models.jobs.train_model`` with the Train step's time budget, timed by the wall clock around it (what
a user waits), 5,000 rows sampled through ``models.synthesis.synthesize`` (the Export step, exact-copy filter
on) and scored: sdmetrics quality against the unseen rows (shapes, pair trends), the membership attack's AUC
and DCR protection. With --auto, ``auto`` is trained the same way with the same budget, and its pick is
compared with the best single generator of the same run. "Best single" is the best of --generators: the
candidates ``auto`` races may differ.

    python bench/family.py                                   # all five tables (long: each generator and auto
                                                             # may take up to --budget seconds per table)
    python bench/family.py --datasets loans --generators bayesnet,copula --no-auto
    python bench/family.py --budget 60 --no-anchors --out /tmp/family.md

Writes markdown to --out (default bench/results/family.md), the raw rows next to it as JSON (family.json)
and the "Which should I pick?" figures to --pick (default assets/pick.json), which the Train step and
`cli.py generators` show, so the app quotes measurements rather than hard-coded claims.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import DATASETS, BenchTable, bench_table  # noqa: E402
from bench.generators import ceiling, scores  # noqa: E402
from bench.privacy import anchor_runs, fit, membership_auc  # noqa: E402
from bench.report import markdown_table  # noqa: E402
from models import registry  # noqa: E402
from models.synthesis import synthesize  # noqa: E402
from tabular.privacy import PrivacySettings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PICK = Path(__file__).resolve().parent.parent / "assets" / "pick.json"  # read by models.registry.measured
SAMPLE_ROWS = 5_000
BUDGET_S = 180  # auto's default time budget
BAYESNET_FIT_S, BAYESNET_TABLE = 15.0, "loans"  # bayesnet trains in at most 15 s on loans (5,000 x 55)
AUTO_SLACK, AUTO_GAP = 0.10, 0.01  # auto within its budget + 10%; its pick within 0.01 of the best single
QUALITY_TIE, SPEED_TIE, AUC_TIE = 0.005, 0.10, 0.01  # "pick it when": closer than this to the best is a tie
COPULA, CART = "SDV GaussianCopula", "synthpop CART"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ours(table: BenchTable, name: str, preset: str, budget: float, draws: int) -> dict:
    """Train as the Train step does (wall clock around it), sample as the Export step does, score."""
    started = time.perf_counter()
    trained = fit(table, name, preset, PrivacySettings(), budget=budget)
    wall = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesize(trained.model, SAMPLE_ROWS, seed=1, real=table.train).frame
    rate = len(synthetic) / (time.perf_counter() - started)
    return {"kind": "auto" if name == "auto" else "ours", "generator": name, "picked": trained.generator,
            "fit_s": wall, "fit_own_s": trained.report.seconds, "stop": trained.report.stop_reason,
            "rows_per_s": rate, **_scored(table, synthetic, draws)}


def _scored(table: BenchTable, synthetic: pd.DataFrame, draws: int) -> dict:
    return {**scores(table, synthetic, draws), "membership_auc": membership_auc(table, synthetic)}


def bench_dataset(key: str, names: list[str], preset: str, budget: float, draws: int, anchors: bool,
                  auto: bool) -> list[dict]:
    table = bench_table(key)
    top = ceiling(table)
    rows = [{"dataset": key, "kind": "ceiling", "generator": None, "quality": top["quality"],
             "shapes": top["shapes"], "trends": top["trends"], "dcr": None, "copies": top["copies"],
             "membership_auc": membership_auc(table, table.train)}]
    if anchors:
        for who, (synthetic, info) in anchor_runs(table, SAMPLE_ROWS).items():
            rows.append({"dataset": key, "kind": "anchor", "generator": who, "fit_s": info["fit_s"],
                         "rows_per_s": info["rows_per_s"], **_scored(table, synthetic, draws)})
            _log(f"  {key}: {who} quality {rows[-1]['quality']:.3f} fit {info['fit_s']:.1f}s")
    for name in names + (["auto"] if auto else []):
        rows.append({"dataset": key, **_ours(table, name, preset, budget, draws)})
        r = rows[-1]
        picked = f" (picked {r['picked']})" if name == "auto" else ""
        _log(f"  {key}: {name}{picked} quality {r['quality']:.3f} fit {r['fit_s']:.1f}s ({r['stop']})")
    return rows


# --- tables -------------------------------------------------------------------------------------------------

def _title(name: str) -> str:
    return f"{registry.card(name).title} (`{name}`)"


def _who(r: dict) -> str:
    if r["kind"] == "ceiling":
        return "ceiling (training rows)"
    if r["kind"] == "anchor":
        return f"{r['generator']} (anchor)"
    if r["kind"] == "auto":
        return f"{_title('auto')} -> `{r['picked']}`"
    return _title(r["generator"])


def _anchor(rows: list[dict], key: str, who: str) -> dict | None:
    return next((r for r in rows if r["dataset"] == key and r["kind"] == "anchor" and r["generator"] == who), None)


def _ratio(value: float, anchor: dict | None) -> float | None:
    return value / anchor["quality"] if anchor else None


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _yes(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def all_runs_table(rows: list[dict]) -> str:
    shown = [{"dataset": r["dataset"], "generator": _who(r), "fit (s)": _s(r.get("fit_s")),
              "rows/s": _rate(r.get("rows_per_s")), "shapes": r["shapes"], "pair trends": r["trends"],
              "quality": r["quality"], "quality / SDV copula": _ratio(r["quality"], _anchor(rows, r["dataset"], COPULA)),
              "quality / CART": _ratio(r["quality"], _anchor(rows, r["dataset"], CART)),
              "membership AUC": r["membership_auc"], "DCR protection": r["dcr"]} for r in rows]
    return markdown_table(shown)


def _best_single(rows: list[dict], key: str) -> dict | None:
    ours = [r for r in rows if r["dataset"] == key and r["kind"] == "ours"]
    return max(ours, key=lambda r: r["quality"]) if ours else None


def target_rows(rows: list[dict], budget: float) -> list[dict]:
    out = []
    for key in dict.fromkeys(r["dataset"] for r in rows):
        bn = next((r for r in rows if r["dataset"] == key and r["generator"] == "bayesnet"), None)
        copula, auto = _anchor(rows, key, COPULA), next((r for r in rows if r["dataset"] == key
                                                         and r["kind"] == "auto"), None)
        best = _best_single(rows, key)
        gap = best["quality"] - auto["quality"] if auto and best else None
        out.append({
            "dataset": key,
            "bayesnet fit (s)": _s(bn["fit_s"]) if bn else "",
            f"<= {BAYESNET_FIT_S:.0f} s ({BAYESNET_TABLE})": _yes(bn["fit_s"] <= BAYESNET_FIT_S)
            if bn and key == BAYESNET_TABLE else "-",
            "bayesnet quality": bn["quality"] if bn else None,
            "SDV copula quality": copula["quality"] if copula else None,
            "beats SDV copula": _yes(bn["quality"] > copula["quality"] if bn and copula else None),
            "auto wall (s)": _s(auto["fit_s"]) if auto else "",
            "budget (s)": f"{budget:g}",
            "within +10%": _yes(auto["fit_s"] <= budget * (1 + AUTO_SLACK) if auto else None),
            "auto picked": f"`{auto['picked']}`" if auto else "",
            "pick quality": auto["quality"] if auto else None,
            "best single (same budget)": f"`{best['generator']}`" if best else "",
            "best quality": best["quality"] if best else None,
            "gap (best - pick)": f"{gap:+.3f}" if gap is not None else "",
            "within 0.01": _yes(gap <= AUTO_GAP if gap is not None else None)})
    return out


def targets_summary(targets: list[dict]) -> str:
    beats = [t["beats SDV copula"] for t in targets if t["beats SDV copula"] != "n/a"]
    line = (f"bayesnet beats SDV GaussianCopula on unseen-row quality on every dataset: "
            f"{_yes(all(b == 'yes' for b in beats)) if beats else 'n/a'} ({beats.count('yes')} of {len(beats)}).")
    if len(targets) < len(DATASETS):
        line += f" Only {len(targets)} of the {len(DATASETS)} datasets were run."
    return line


def pick_rows(rows: list[dict]) -> list[dict]:
    """Per generator (ours and auto): the measured figures across datasets, as the app will read them."""
    out = []
    for name in dict.fromkeys(r["generator"] for r in rows if r["kind"] in ("ours", "auto")):
        mine = [r for r in rows if r["generator"] == name]
        qualities = [r["quality"] for r in mine]
        vs_cart = [_ratio(r["quality"], _anchor(rows, r["dataset"], CART)) for r in mine]
        aucs = [r["membership_auc"] for r in mine if r["membership_auc"] is not None]
        out.append({"generator": name, "title": registry.card(name).title,
                    "quality_median": statistics.median(qualities), "quality_min": min(qualities),
                    "vs_cart": statistics.mean(vs_cart) if None not in vs_cart else None,
                    "membership_auc_worst": max(aucs) if aucs else None,
                    "fit_seconds_median": statistics.median(r["fit_s"] for r in mine),
                    "rows_per_second_median": statistics.median(r["rows_per_s"] for r in mine),
                    "datasets": len(mine)})
    for p in out:
        p["pick_it_when"] = _pick_it_when(p, out)
    return out


def _pick_it_when(p: dict, everyone: list[dict]) -> str:
    """Plain words from the measured figures: where this generator is best, or ties for best, among those
    benchmarked. A figure where every generator ties for best tells nothing and is left out."""
    if p["generator"] == "auto":
        return (f"you would rather not choose: it tries the others within the time budget and keeps the best "
                f"(median {p['fit_seconds_median']:.0f} s)")
    ours = [q for q in everyone if q["generator"] != "auto"]

    def leads(key: str, best: float, near) -> list[dict] | None:
        """The generators within the tie margin of the best figure (None when everyone is)."""
        found = [q for q in ours if q[key] is not None and near(q[key], best)]
        return None if len(found) == len(ours) else found

    best_quality = max(q["quality_median"] for q in ours)
    fastest = min(q["fit_seconds_median"] for q in ours)
    quickest_rows = max(q["rows_per_second_median"] for q in ours)
    aucs = [q["membership_auc_worst"] for q in ours if q["membership_auc_worst"] is not None]
    top = leads("quality_median", best_quality, lambda v, b: v >= b - QUALITY_TIE)
    reasons = []
    if top is not None and p in top:
        reasons.append(f"quality matters most: best median quality ({p['quality_median']:.3f})")
    elif (top is not None and p["quality_median"] >= best_quality - AUTO_GAP
          and p["fit_seconds_median"] < min(q["fit_seconds_median"] for q in top)):
        reasons.append(f"you want near-best quality (within {AUTO_GAP} of the best) in less time")
    fast = leads("fit_seconds_median", fastest, lambda v, b: v <= max(b * (1 + SPEED_TIE), b + 1.0))
    if fast is not None and p in fast:
        reasons.append(f"speed matters most: fastest to train ({p['fit_seconds_median']:.1f} s)")
    writes = leads("rows_per_second_median", quickest_rows, lambda v, b: v >= b * (1 - SPEED_TIE))
    if writes is not None and p in writes:
        reasons.append(f"you need many rows quickly: fastest to write rows ({p['rows_per_second_median']:,.0f}/s)")
    # an AUC under 0.5 is the attack guessing, no better than 0.5: below it, every value ties
    private = leads("membership_auc_worst", max(min(aucs), 0.5),
                    lambda v, b: max(v, 0.5) <= b + AUC_TIE) if aucs else None
    if private is not None and p in private:
        reasons.append(f"privacy matters most: hardest to tell who was in the data (attack AUC "
                       f"{p['membership_auc_worst']:.3f} at worst)")
    if not reasons:
        return (f"no measured edge over the others here (median quality {p['quality_median']:.3f}, "
                f"{p['fit_seconds_median']:.1f} s)")
    return "; ".join(reasons)


def pick_table(picks: list[dict]) -> str:
    return markdown_table([{"generator": _title(p["generator"]), "quality (median)": p["quality_median"],
                            "quality (worst)": p["quality_min"], "quality / CART (mean)": p["vs_cart"],
                            "membership AUC (worst)": p["membership_auc_worst"],
                            "fit (s, median)": _s(p["fit_seconds_median"]),
                            "rows/s (median)": _rate(p["rows_per_second_median"]),
                            "pick it when": p["pick_it_when"]} for p in picks])


def _command(args: argparse.Namespace) -> str:
    return (f"python bench/family.py --datasets {','.join(args.datasets)} --generators "
            f"{','.join(args.generators)} --budget {args.budget:g} --preset {args.preset} "
            f"{'--auto' if args.auto else '--no-auto'} {'--anchors' if args.anchors else '--no-anchors'}")


def report(rows: list[dict], args: argparse.Namespace) -> tuple[str, list[dict], list[dict]]:
    targets, picks = target_rows(rows, args.budget), pick_rows(rows)
    command = _command(args)
    text = "\n\n".join([
        (f"# The rest of the family (issue 11)\n\n`{command}`. Quality: sdmetrics' Quality Score against the "
         f"unseen rows. Fit: wall clock around the fit (ours: `train_model` with a {args.budget:g} s budget, "
         f"the {args.preset} preset). Rows/s: {SAMPLE_ROWS:,} rows through the Export step's sampling."),
        "## All runs\n\n" + all_runs_table(rows),
        "## Targets\n\n" + markdown_table(targets) + "\n\n" + targets_summary(targets),
        "## Which should I pick?\n\n" + pick_table(picks)])
    return text, targets, picks


def _names(values: list[str]) -> list[str]:
    return [name for value in values for name in value.split(",") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), help="comma- or space-separated")
    parser.add_argument("--generators", nargs="+", default=[n for n in registry.names() if n != "auto"],
                        help="registry names (default: every one but auto)")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="the Train step's time budget (s)")
    parser.add_argument("--preset", default="balanced", choices=registry.PRESETS)
    parser.add_argument("--draws", type=int, default=3, help="draws averaged for DCR protection")
    parser.add_argument("--auto", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--anchors", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default=str(RESULTS / "family.md"))
    parser.add_argument("--pick", default=str(PICK),
                        help="where the Train step's 'Which should I pick?' figures go ('' for nowhere)")
    args = parser.parse_args()
    args.datasets, args.generators = _names(args.datasets), _names(args.generators)
    for name in args.generators:
        registry.card(name)  # an unknown name fails now, not after an hour of training
    unknown = [key for key in args.datasets if key not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    if args.auto and "auto" not in registry.names():
        print("Note: no generator called 'auto' is registered yet; the auto part is skipped.", file=sys.stderr)
        args.auto = False
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for key in args.datasets:
        _log(f"{key}:")
        rows.extend(bench_dataset(key, args.generators, args.preset, args.budget, args.draws, args.anchors,
                                  args.auto))
        text, targets, picks = report(rows, args)  # written dataset by dataset: a long run can stop
        out.write_text(text + "\n")
        out.with_suffix(".json").write_text(json.dumps({"rows": rows, "targets": targets}, indent=2) + "\n")
        if args.pick:
            Path(args.pick).write_text(json.dumps({"command": _command(args), "generators": picks}, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
