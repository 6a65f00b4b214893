"""Print the generator benchmark's tables from its JSON: `python bench/report.py [FILE ...]` (runs merged)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SHAPES_GAP, TRENDS_GAP, DCR_TARGET, FIT_BUDGET_S, SPEED_RATIO, TOGETHER_RATIO = 0.01, 0.02, 0.95, 180, 3.0, 2.2


def _f(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: list[dict]) -> str:
    """Records as a markdown table (floats to 3 decimals, or 1 for seconds)."""
    if not rows:
        return "(no rows)"
    keys = list(dict.fromkeys(k for r in rows for k in r))  # every column any row has, in first-seen order

    def cell(key: str, value) -> str:
        if isinstance(value, float):
            return _f(value, 1 if key.endswith(" s") else 3)
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(k, r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _by(rows: list[dict], key: str, who: str, run: str | None = None) -> dict | None:
    return next((r for r in rows if r["dataset"] == key and r["who"] == who
                 and (run is None or r["run"].startswith(run)) and "quality" in r), None)


def full_table(rows: list[dict]) -> None:
    print("| dataset | synthesizer | run | fit (s) | epochs | rows/s | shapes | pair trends | quality | "
          "DCR protection | copies |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "quality" not in r:
            print(f"| {r['dataset']} | {r['who']} | {r['run']} | | | | | | | | |")
            continue
        rate = f"{r['rows_per_s']:,.0f}" if r.get("rows_per_s") else ""
        print(f"| {r['dataset']} | {r['who']} | {r['run']} | {_f(r.get('fit_s'), 1)} | {r.get('epochs') or ''} | "
              f"{rate} | {_f(r['shapes'])} | {_f(r['trends'])} | {_f(r['quality'])} | {_f(r['dcr'])} | "
              f"{r['copies']:.2%} |")


def best_ours(rows: list[dict], key: str) -> dict | None:
    ours = [r for r in rows if r["dataset"] == key and r["who"].startswith("ours") and r["run"] == "balanced"
            and "quality" in r]
    return max(ours, key=lambda r: r["quality"]) if ours else None


def ceiling_table(rows: list[dict]) -> None:
    print("| dataset | best of ours (Balanced) | shapes gap | pair-trends gap | DCR protection (fresh real rows) | "
          "copies (unseen rows) | fit (s) | all met |")
    print("|---|---|---|---|---|---|---|---|")
    for key in dict.fromkeys(r["dataset"] for r in rows):
        ceiling, best = _by(rows, key, "ceiling (training rows)"), best_ours(rows, key)
        if ceiling is None or best is None:
            continue
        fresh = _by(rows, key, "fresh real rows")
        shapes, trends = ceiling["shapes"] - best["shapes"], ceiling["trends"] - best["trends"]
        met = [shapes <= SHAPES_GAP, trends <= TRENDS_GAP, (best["dcr"] or 0) >= DCR_TARGET,
               best["copies"] <= ceiling_copies(rows, key), best["fit_s"] <= FIT_BUDGET_S]
        print(f"| {key} | {best['who'][5:]} ({best['quality']:.3f} vs {ceiling['quality']:.3f}) | {shapes:+.3f} | "
              f"{trends:+.3f} | {_f(best['dcr'])} ({_f(fresh['dcr']) if fresh else 'n/a'}) | "
              f"{best['copies']:.2%} ({ceiling_copies(rows, key):.2%}) | {best['fit_s']:.0f} | {_yes(all(met))} |")


def ceiling_copies(rows: list[dict], key: str) -> float:
    """How often unseen real rows equal a training row: the chance level for exact copies."""
    row = next((r for r in rows if r["dataset"] == key and "unseen_copies" in r), None)
    return row["unseen_copies"] if row else 0.0


def cart_table(rows: list[dict]) -> None:
    print("| dataset | autoregressive quality | CART quality | difference | autoregressive DCR | CART DCR | met |")
    print("|---|---|---|---|---|---|---|")
    for key in dict.fromkeys(r["dataset"] for r in rows):
        ours, cart = _by(rows, key, "ours autoregressive", "balanced"), _by(rows, key, "synthpop CART")
        if ours is None or cart is None:
            continue
        met = ours["quality"] >= cart["quality"] and (ours["dcr"] >= DCR_TARGET or ours["dcr"] >= cart["dcr"])
        print(f"| {key} | {ours['quality']:.3f} | {cart['quality']:.3f} | {ours['quality'] - cart['quality']:+.3f} | "
              f"{_f(ours['dcr'])} | {_f(cart['dcr'])} | {_yes(met)} |")


def sdv_table(rows: list[dict]) -> None:
    print("| dataset | generator | epochs | quality ours - SDV | SDV fit / our fit | met |")
    print("|---|---|---|---|---|---|")
    for key in dict.fromkeys(r["dataset"] for r in rows):
        for name, anchor in (("vae", "SDV TVAE"), ("gan", "SDV CTGAN")):
            ours, theirs = _by(rows, key, f"ours {name}", "same epochs"), _by(rows, key, anchor)
            if ours is None or theirs is None:
                continue
            ratio = theirs["fit_s"] / ours["fit_s"]
            met = ours["quality"] >= theirs["quality"] and ratio >= SPEED_RATIO
            print(f"| {key} | {name} | {ours['epochs']} | {ours['quality'] - theirs['quality']:+.3f} | "
                  f"{ratio:.1f}x | {_yes(met)} |")


def concurrency_table(result: dict | None) -> None:
    if not result:
        return
    worst = max(result["together_s"]) / result["alone_s"]
    print("| dataset | generator | alone (s) | two at once (s) | slowest / alone | met (<= 2.2x) |")
    print("|---|---|---|---|---|---|")
    together = ", ".join(f"{t:.0f}" for t in result["together_s"])
    print(f"| {result['dataset']} | {result['generator']} | {result['alone_s']:.0f} | {together} | {worst:.2f}x | "
          f"{_yes(worst <= TOGETHER_RATIO)} |")


def print_report(rows: list[dict], concurrency: dict | None = None) -> None:
    sections = [("All runs (scored against the unseen rows)", lambda: full_table(rows)),
                ("Best of ours in the Balanced preset against the ceiling", lambda: ceiling_table(rows)),
                ("Autoregressive against synthpop's CART", lambda: cart_table(rows)),
                ("Same epochs: our VAE and GAN against SDV's TVAE and CTGAN", lambda: sdv_table(rows)),
                ("Two trainings at once on this machine", lambda: concurrency_table(concurrency))]
    for title, table in sections:
        print(f"\n### {title}\n")
        table()


def main() -> None:
    rows, concurrency = [], None
    for path in sys.argv[1:] or ["bench/results/generators.json"]:
        data = json.loads(Path(path).read_text())
        rows.extend(data["rows"])
        concurrency = data.get("concurrency") or concurrency
    print_report(rows, concurrency)


if __name__ == "__main__":
    main()
