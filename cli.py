"""Synthetic Data Studio from the command line: the same engine as the app, without a browser."""

from __future__ import annotations

import argparse
import json
import sys

from tabular.dataset import Dataset, load_dataset
from tabular.errors import DataReadError


def _profile_rows(dataset: Dataset) -> list[dict]:
    rows = []
    for prof in dataset.profiles():
        spec = dataset.schema.column(prof.name)
        rows.append({
            "column": prof.name,
            "kind": spec.kind.value,
            "kind_label": spec.kind.label,
            "handling": spec.handling.value,
            "personal": spec.is_personal,
            "missing_share": round(prof.missing_share, 4),
            "distinct": prof.distinct,
            "examples": prof.examples,
            "reason": spec.reason,
        })
    return rows


def _print_table(rows: list[dict], columns: list[tuple[str, str, int]]) -> None:
    """Print rows as an aligned text table; columns are (key, header, max width)."""
    cells = [[str(r[k])[:w] for k, _, w in columns] for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (_, h, _) in enumerate(columns)]
    print("  ".join(h.ljust(widths[i]) for i, (_, h, _) in enumerate(columns)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)))


def cmd_profile(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.data)
    rows = _profile_rows(dataset)
    if args.json:
        payload = {"name": dataset.name, "rows": dataset.n_rows, "columns": dataset.n_columns,
                   "reading_notes": dataset.report.notes, "profile": rows}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    report = dataset.report
    print(f"{report.file_name}: {dataset.n_rows:,} rows x {dataset.n_columns} columns ({report.file_format}"
          + (f", {report.encoding}, {report.delimiter}-separated)" if report.delimiter else ")"))
    for note in report.notes:
        print(f"  note: {note}")
    print()
    for row in rows:
        row["missing"] = f"{row['missing_share']:.1%}"
        row["examples_text"] = ", ".join(row["examples"])
        row["flag"] = "personal" if row["personal"] else ""
    _print_table(rows, [("column", "column", 32), ("kind_label", "kind", 30), ("handling", "handling", 10),
                        ("flag", "flag", 8), ("missing", "missing", 7), ("distinct", "distinct", 9),
                        ("examples_text", "examples", 50)])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    profile = commands.add_parser("profile", help="show what the app understands of a table")
    profile.add_argument("data", help="a CSV, TSV, Excel (.xlsx) or Parquet file")
    profile.add_argument("--json", action="store_true", help="print machine-readable JSON")
    profile.set_defaults(func=cmd_profile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except DataReadError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.detail:
            print(f"detail: {error.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
