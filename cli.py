"""Synthetic Data Studio from the command line: the same engine as the app, without a browser."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from models.base import ModelError
from tabular.conditions import ConditionError
from tabular.dataset import load_dataset
from tabular.errors import DataReadError
from tabular.export import ExportError


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
    rows = dataset.profile_rows()
    for row in rows:
        row.pop("distribution")
        row.pop("handling_label")
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


def cmd_generators(args: argparse.Namespace) -> int:
    from models import registry

    pad, figures = " " * 16, registry.measured()
    for name in registry.names():
        card = registry.card(name)
        print(f"{name:15s} {card.title}")
        print(f"{pad}good at: {card.good_at}")
        print(f"{pad}speed:   {card.speed}")
        print(f"{pad}quality: {card.quality}")
        if name in figures:
            f = figures[name]
            auc = f"{f['membership_auc_worst']:.2f}" if f.get("membership_auc_worst") is not None else "n/a"
            print(f"{pad}measured: quality {100 * f['quality_median']:.1f}% (median of {f['datasets']} tables), "
                  f"training {f['fit_seconds_median']:.0f} s, membership attack AUC {auc} (0.50 = guessing)")
    if figures:
        print(f"\nmeasured with: {registry.measured_with()}")
    return 0


class ProgressBar:
    """A one-line progress bar on stderr, fed by training progress events."""

    def __init__(self, label: str, stream=sys.stderr) -> None:
        self.label, self.stream = label, stream

    def __call__(self, event) -> None:
        if event.judged is not None:  # a candidate of an automatic pick has finished
            self.stream.write(f"\r{self.label}: {event.candidate} scored {100 * event.judged:.1f}% on unseen rows"
                              + " " * 30 + "\n")
            return
        if not event.losses:
            return
        done = event.epoch / max(event.epochs, 1)
        bar = "#" * int(30 * done) + "-" * (30 - int(30 * done))
        quality = f" quality {100 * event.best_fidelity:.0f}%" if event.best_fidelity is not None else ""
        eta = f" eta {event.eta:.0f}s" if event.eta is not None else ""
        who = f" {event.candidate}" if event.candidate else ""
        self.stream.write(f"\r{self.label}{who} [{bar}] epoch {event.epoch}/{event.epochs} "
                          f"{event.elapsed:.0f}s{eta}{quality}   ")
        self.stream.flush()

    def close(self, message: str) -> None:
        self.stream.write(f"\n{message}\n")
        self.stream.flush()


def _privacy(args: argparse.Namespace):
    """Protections and differential privacy as asked on the command line."""
    from tabular.privacy import PrivacySettings

    if args.epsilon is not None and args.epsilon <= 0:
        raise ModelError("--epsilon must be a positive privacy budget, e.g. 1, 3 or 10.")
    return PrivacySettings(protect=not args.no_protections, epsilon=args.epsilon)


def cmd_generate(args: argparse.Namespace) -> int:
    from models import registry
    from models.jobs import TrainingRequest, split_rows, train_model
    from models.synthesis import synthesize

    if args.rows is not None and args.rows < 1:
        raise ModelError("--rows must be a positive number of rows.")
    if args.epochs is not None and args.epochs < 1:
        raise ModelError("--epochs must be a positive number of passes over the data.")
    if args.budget is not None and args.budget <= 0:
        raise ModelError("--budget must be a positive number of seconds.")
    privacy = _privacy(args)
    dataset = load_dataset(args.data)
    _request(args, dataset.schema)  # a mistyped condition fails before the training, not after
    generator = args.generator or (registry.PRIVATE_PICK if privacy.private else
                                   registry.recommended(dataset.n_rows, len(dataset.schema.modelled())))
    if generator == "auto" and args.epochs is not None:
        raise ModelError("--epochs does not apply to the automatic pick: give it a time budget with --budget, "
                         "or name a generator with --generator.")
    overrides = {"epochs": args.epochs} if args.epochs is not None else {}
    if args.candidates:
        overrides = {"candidates": _candidates(args.candidates, generator)}
    request = TrainingRequest(generator, args.preset, overrides, args.budget, args.seed, privacy=privacy.to_dict())
    bar = ProgressBar(f"training {generator} ({registry.PRESET_LABELS[args.preset]})")
    trained = train_model(request, split_rows(dataset, request.holdout_share, args.seed), dataset.schema, bar)
    model, report = trained.model, trained.report
    if trained.race:
        bar.close(trained.race["explanation"])
    else:
        bar.close(f"trained in {report.seconds:.1f}s over {report.epochs_run} epochs on {report.threads or 'GPU'} "
                  f"thread(s)" + (f"; {report.message}" if report.message else ""))
    print(f"privacy: {model.privacy_summary}", file=sys.stderr)
    rows = args.rows or dataset.n_rows
    conditions = _request(args, dataset.schema, model)
    result = synthesize(model, rows, seed=args.seed, real=dataset.typed(), conditions=conditions)
    _write(result.frame, args, dataset.schema, conditions)
    if result.copies_removed:
        print(f"note: {result.copies_removed:,} synthetic rows equal to a real row were replaced", file=sys.stderr)
    if args.save_model:
        model.save(args.save_model)
        print(f"saved the model to {args.save_model}", file=sys.stderr)
    return 0


def _candidates(given: str, generator: str) -> tuple[str, ...]:
    """The generators an automatic pick races, checked against the registry."""
    from models import registry

    if generator != "auto":
        raise ModelError("--candidates goes with the automatic pick (--generator auto, the default).")
    names = tuple(n.strip() for n in given.split(",") if n.strip())
    unknown = [n for n in names if n not in registry.names() or n == "auto"]
    if unknown or not names:
        choices = ", ".join(n for n in registry.names() if n != "auto")
        raise ModelError(f"--candidates: unknown generator {', '.join(unknown) or '(none given)'}; choose from {choices}.")
    return names


def cmd_sample(args: argparse.Namespace) -> int:
    from models.base import Generator

    if args.rows < 1:
        raise ModelError("--rows must be a positive number of rows.")
    model = Generator.load(args.model)
    conditions = _request(args, model.schema_, model)
    synthetic = model.sample(args.rows, seed=args.seed, conditions=conditions)
    _write(synthetic, args, model.schema_, conditions)
    return 0


def _request(args: argparse.Namespace, schema, model=None):
    """The --where and --balance options as one request; ``--balance COL`` needs the model's values of COL."""
    from models.conditional import column_values
    from tabular.conditions import Conditions, Mix, check_request, mix_column, parse_balance, parse_where

    where = tuple(parse_where(text, schema) for text in args.where or [])
    mix = None
    if args.balance:
        column, _, shares = args.balance.partition("=")
        if shares.strip():
            mix = parse_balance(args.balance, schema)
        else:  # equal shares of the values the model writes; before training, the column alone is checked
            name = mix_column(schema, column).name
            mix = (parse_balance(args.balance, schema, column_values(model, name)) if model is not None
                   else Mix(name, ()))
    conditions = Conditions(where, mix)
    check_request(conditions)
    return conditions


def _write(synthetic, args: argparse.Namespace, schema, conditions=None) -> None:
    """Write the synthetic rows (text protected from running as formulas unless --keep-formulas) and say so."""
    from tabular.export import write_table
    from tabular.formula_guard import note

    protected = write_table(synthetic, args.out, schema, protect=not args.keep_formulas)
    shaped = f" with {conditions.words()}" if conditions else ""
    print(f"wrote {len(synthetic):,} synthetic rows{shaped} to {args.out}", file=sys.stderr)
    if protected:
        print(f"note: {note(protected)} (--keep-formulas turns protection off.)", file=sys.stderr)


def _evaluation(args: argparse.Namespace):
    """Read the real, synthetic and holdout files and score them (shared by 'evaluate' and 'report')."""
    from evaluation.scorecard import evaluate
    from models.compute import training_threads, worker_thread_limit
    from tabular.dataset import load_like

    dataset = load_dataset(args.real)
    real = dataset.typed()
    synthetic = load_like(args.synthetic, dataset.schema)
    holdout = load_like(args.holdout, dataset.schema) if args.holdout else None
    progress = (lambda done, total, text: print(f"[{done}/{total}] {text}", file=sys.stderr)) if not getattr(
        args, "json", False) else None
    with worker_thread_limit(training_threads()):  # the app's share of the cores, in this thread only
        result = evaluate(real, synthetic, dataset.schema, holdout, target=args.target, on_step=progress)
    return dataset, real, synthetic, result


def cmd_evaluate(args: argparse.Namespace) -> int:
    _, _, _, result = _evaluation(args)
    summary = result.summary()
    if args.json:
        print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary.items()}, indent=2))
        return 0
    rows = [{"score": k, "value": f"{v:.4f}" if isinstance(v, float) else ("n/a" if v is None else v)}
            for k, v in summary.items()]
    _print_table(rows, [("score", "score", 30), ("value", "value", 60)])
    notes = result.notes + ([result.usefulness.summary] if result.usefulness else [])
    notes += ([result.sampling_text] if result.sampling_text else []) + (result.privacy.reasons if result.privacy else [])
    notes += [f"membership test: {result.membership.sentence}"] if result.membership else []
    for note in notes:
        print(f"  note: {note}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evaluation.report import html_report

    dataset, real, synthetic, result = _evaluation(args)
    text = html_report(result, real, synthetic, dataset.schema, f"{dataset.name}: synthetic data report",
                       f"synthetic rows from {args.synthetic}")
    try:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ExportError(f"Could not write {args.out}: {exc.strerror or exc}.") from exc
    print(f"wrote the report to {args.out} (quality {100 * result.quality.quality:.0f}/100, "
          f"{result.quality.band})", file=sys.stderr)
    return 0


KEEP_FORMULAS = ("write text starting with =, +, -, @, a tab or a carriage return as it is (by default CSV, TSV "
                 "and Excel files put an apostrophe in front so that spreadsheets do not run it as a formula)")

# models.registry names; listed here so that 'profile' need not import torch (a test keeps them in step)
GENERATORS = ["auto", "autoregressive", "diffusion", "copula", "bayesnet", "vae", "gan", "flow", "rbm"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    profile = commands.add_parser("profile", help="show what the app understands of a table")
    profile.add_argument("data", help="a CSV, TSV, Excel (.xlsx) or Parquet file")
    profile.add_argument("--json", action="store_true", help="print machine-readable JSON")
    profile.set_defaults(func=cmd_profile)

    gens = commands.add_parser("generators", help="list the generators and what they are good at")
    gens.set_defaults(func=cmd_generators)

    gen = commands.add_parser("generate", help="train a generator on a table and write synthetic rows")
    gen.add_argument("data", help="the real table (csv, tsv, xlsx or parquet)")
    gen.add_argument("--generator", choices=GENERATORS,
                     help="see 'generators' (default: auto, the automatic pick within --budget, 3 minutes unless "
                          "given; with --epsilon: bayesnet)")
    gen.add_argument("--out", required=True, help="where to write the synthetic table (csv, tsv, xlsx, parquet)")
    gen.add_argument("--rows", type=int, help="rows to generate (default: as many as the real table)")
    gen.add_argument("--preset", default="balanced", choices=["fast", "balanced", "best"],
                     help="how long to train (default: balanced); --epochs overrides its number of epochs")
    gen.add_argument("--epochs", type=int, help="passes over the data (default: the preset's)")
    gen.add_argument("--budget", type=float, help="stop training after this many seconds")
    gen.add_argument("--candidates", help="with --generator auto: the generators to race, comma-separated, "
                                          "quick ones first (default: copula,bayesnet,vae,autoregressive,diffusion)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--save-model", help="also save the trained model here (.pt)")
    gen.add_argument("--no-protections", action="store_true",
                     help="keep rare categories and extreme values (they could identify people; off at your risk)")
    gen.add_argument("--epsilon", type=float,
                     help="train with differential privacy at this budget (1 strong, 3 moderate, 10 weak)")
    gen.add_argument("--keep-formulas", action="store_true", help=KEEP_FORMULAS)
    _condition_options(gen)
    gen.set_defaults(func=cmd_generate)

    smp = commands.add_parser("sample", help="generate rows from a saved model, without the original data")
    smp.add_argument("model", help="a model file saved with --save-model or from the app")
    smp.add_argument("--rows", type=int, required=True)
    smp.add_argument("--out", required=True)
    smp.add_argument("--seed", type=int)
    smp.add_argument("--keep-formulas", action="store_true", help=KEEP_FORMULAS)
    _condition_options(smp)
    smp.set_defaults(func=cmd_sample)

    for name, helptext, func in (("evaluate", "score synthetic rows against the real table", cmd_evaluate),
                                 ("report", "write the quality and privacy report as one HTML file", cmd_report)):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("real", help="the real rows the generator learned from")
        sub.add_argument("synthetic", help="the synthetic rows (same columns)")
        sub.add_argument("--holdout", help="real rows never used for training (enables privacy and ML usefulness)")
        sub.add_argument("--target", help="column the ML usefulness test predicts (default: chosen automatically)")
        if name == "evaluate":
            sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        else:
            sub.add_argument("--out", required=True, help="where to write the report (.html)")
        sub.set_defaults(func=func)
    return parser


def _condition_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--where", action="append", metavar="CONDITION",
                        help="only rows meeting it: COL=VALUE, or COL>VALUE, COL>=VALUE, COL<VALUE, COL<=VALUE for "
                             "numbers and dates (quote it in the shell; repeat for several)")
    parser.add_argument("--balance", metavar="MIX",
                        help="the share of each value of a column, e.g. \"churn=Yes:0.5,No:0.5\"; or just COL for "
                             "equal shares of every value")


def for_cli(message: str) -> str:
    """Messages are shared with the app; a sentence that sends the user to one of its steps is said for the CLI."""
    sentences = re.split(r"(?<=[.!?])\s+", message)
    kept = [s for s in sentences if not re.search(r"\b(Data|Train|Evaluate|Export) step\b", s)]
    if len(kept) == len(sentences):
        return message
    hint = ("The command line keeps each column's suggested handling (`python cli.py profile FILE` lists them); "
            "to change one, open the table in the app, or leave such columns out of the file.")
    return " ".join([*kept, hint])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except (ModelError, ExportError, ConditionError) as error:
        print(f"error: {for_cli(str(error))}", file=sys.stderr)
        return 2
    except DataReadError as error:
        print(f"error: {for_cli(error.message)}", file=sys.stderr)
        if error.detail:
            print(f"detail: {error.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: say so in plain words (SDS_DEBUG=1 shows the traceback)
        if os.environ.get("SDS_DEBUG"):
            raise
        print("error: Something unexpected went wrong; please report it with the command you ran.", file=sys.stderr)
        print(f"detail: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
