"""The headless entry prints the same profile the app shows."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True)


def test_profile_json_matches_schema(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text("id;price;paid\n" + "".join(f"{i};{i},5;ja\n" if i % 2 else f"{i};{i},25;nein\n"
                                                  for i in range(1, 40)), encoding="cp1252")
    result = run_cli("profile", str(path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    kinds = {row["column"]: row["kind"] for row in payload["profile"]}
    assert kinds == {"id": "identifier", "price": "number", "paid": "yes_no"}
    assert payload["rows"] == 39


def test_profile_table_and_plain_error(tmp_path):
    ok = run_cli("profile", "assets/samples/customers.csv")
    assert ok.returncode == 0 and "email" in ok.stdout and "personal" in ok.stdout
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    bad = run_cli("profile", str(empty))
    assert bad.returncode == 2 and "The file is empty." in bad.stderr and "Traceback" not in bad.stderr


def test_generators_lists_every_registered_name():
    out = run_cli("generators")
    assert out.returncode == 0
    from models import registry

    for name in registry.names():
        assert f"\n{name} " in "\n" + out.stdout


def test_generate_then_sample_from_saved_model(tmp_path):
    from tests.conftest import mixed_csv

    data = tmp_path / "mixed.csv"
    data.write_bytes(mixed_csv())
    out, model = tmp_path / "synthetic.parquet", tmp_path / "model.pt"
    made = run_cli("generate", str(data), "--generator", "vae", "--epochs", "3", "--rows", "120",
                   "--out", str(out), "--save-model", str(model))
    assert made.returncode == 0, made.stderr
    assert "epoch 3/3" in made.stderr and "wrote 120 synthetic rows" in made.stderr
    import pandas as pd

    frame = pd.read_parquet(out)
    assert len(frame) == 120 and "plan" in frame.columns and "note" in frame.columns
    again = tmp_path / "again.csv"
    sampled = run_cli("sample", str(model), "--rows", "30", "--out", str(again), "--seed", "1")
    assert sampled.returncode == 0, sampled.stderr
    text = again.read_text().splitlines()
    assert len(text) == 31 and text[0].startswith("customer_id,email,plan")


def test_preset_is_honoured_with_or_without_epochs(tmp_path):
    from tests.conftest import mixed_csv

    data = tmp_path / "mixed.csv"
    data.write_bytes(mixed_csv())
    fast = run_cli("generate", str(data), "--generator", "vae", "--preset", "fast", "--rows", "20",
                   "--out", str(tmp_path / "a.csv"))
    assert fast.returncode == 0, fast.stderr
    assert "(Fast)" in fast.stderr and "epoch 1/30" in fast.stderr  # the Fast preset's 30 epochs, not Balanced's
    both = run_cli("generate", str(data), "--generator", "vae", "--preset", "fast", "--epochs", "2", "--rows", "20",
                   "--out", str(tmp_path / "b.csv"))
    assert both.returncode == 0 and "(Fast)" in both.stderr and "epoch 2/2" in both.stderr


def test_generate_with_the_automatic_pick_says_what_it_picked(tmp_path):
    from tests.conftest import mixed_csv

    data, out = tmp_path / "mixed.csv", tmp_path / "synthetic.csv"
    data.write_bytes(mixed_csv())
    made = run_cli("generate", str(data), "--generator", "auto", "--candidates", "copula,bayesnet", "--budget", "30",
                   "--rows", "40", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "copula scored" in made.stderr and "bayesnet scored" in made.stderr
    assert "Picked " in made.stderr and "of the 30 s budget" in made.stderr
    assert len(out.read_text().splitlines()) == 41
    wrong = run_cli("generate", str(data), "--candidates", "copula,nope", "--out", str(out))  # auto by default
    assert wrong.returncode == 2 and "unknown generator nope" in wrong.stderr
    epochs = run_cli("generate", str(data), "--epochs", "5", "--out", str(out))
    assert epochs.returncode == 2 and "--epochs does not apply to the automatic pick" in epochs.stderr


def test_generate_plain_errors(tmp_path):
    bad = run_cli("generate", "assets/samples/loans.csv", "--generator", "nope", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    negative = run_cli("generate", "assets/samples/loans.csv", "--rows", "-5", "--out", str(tmp_path / "x.csv"))
    assert negative.returncode == 2 and "positive number" in negative.stderr and "Traceback" not in negative.stderr
    wrong = run_cli("sample", "assets/samples/loans.csv", "--rows", "3", "--out", str(tmp_path / "x.csv"))
    assert wrong.returncode == 2 and "not a model file" in wrong.stderr


def test_cli_generator_choices_match_registry():
    import cli
    from models import registry

    assert cli.GENERATORS == registry.names()


def test_evaluate_json_and_report(tmp_path):
    from tests.conftest import mixed_csv

    real, holdout, synthetic = tmp_path / "real.csv", tmp_path / "holdout.csv", tmp_path / "synthetic.csv"
    lines = mixed_csv(300).decode().splitlines(keepends=True)
    real.write_text("".join(lines[:241]))
    holdout.write_text(lines[0] + "".join(lines[241:]))
    made = run_cli("generate", str(real), "--generator", "copula", "--out", str(synthetic))
    assert made.returncode == 0, made.stderr
    scored = run_cli("evaluate", str(real), str(synthetic), "--holdout", str(holdout), "--json")
    assert scored.returncode == 0, scored.stderr
    scores = json.loads(scored.stdout)
    for key in ("quality", "column_shapes", "column_pair_trends", "detection_auc", "exact_copies", "dcr_share",
                "dcr_overfitting_protection"):
        assert isinstance(scores[key], float), key
    assert 0.5 < scores["quality"] <= 1 and scores["exact_copies"] == 0.0
    for key in ("ml_real_score", "ml_synthetic_score", "ml_trivial_guess"):  # both models' scores, and the guess
        assert isinstance(scores[key], float), key
    assert scores["ml_usefulness"] is None or 0 <= scores["ml_usefulness"] <= 1
    assert 0 <= scores["membership_auc"] <= 1 and "training data" in scores["membership_verdict"]
    plain = run_cli("evaluate", str(real), str(synthetic), "--holdout", str(holdout))
    assert plain.returncode == 0 and "note: membership test: An attacker" in plain.stdout
    out = tmp_path / "report.html"
    reported = run_cli("report", str(real), str(synthetic), "--out", str(out))
    assert reported.returncode == 0 and "wrote the report" in reported.stderr
    assert out.read_text().startswith("<!doctype html>")


def test_evaluate_plain_error_for_mismatched_files(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n")
    bad = run_cli("evaluate", "assets/samples/loans.csv", str(other))
    assert bad.returncode == 2 and "lacks columns of the real table" in bad.stderr and "Traceback" not in bad.stderr


def test_too_few_rows_message_counts_the_whole_table(tmp_path):
    data = tmp_path / "nine.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i * 3 % 7}\n" for i in range(9)))
    bad = run_cli("generate", str(data), "--generator", "copula", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "This table has 9 rows" in bad.stderr and "2 of them are held back" in bad.stderr


def test_cli_messages_speak_of_the_command_line_not_app_steps(tmp_path):
    data = tmp_path / "ids.csv"
    data.write_text("id,email\n" + "".join(f"{i},user{i}@example.com\n" for i in range(40)))
    bad = run_cli("generate", str(data), "--generator", "copula", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode == 2 and "nothing to learn" in bad.stderr
    assert "Data step" not in bad.stderr and "cli.py profile" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_reads_nested_parquet_and_huge_integers_without_traceback(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"tags": pa.array([[i, i + 1] for i in range(30)]),
                             "info": pa.array([{"a": i} for i in range(30)]),
                             "big": pa.array([2 ** 64 - 1 - i for i in range(30)], pa.uint64())}), nested)
    huge = tmp_path / "huge.csv"
    huge.write_text("id,amount\n" + "".join(f"{2 ** 63 + i},{i}\n" for i in range(30)))
    kinds = {}
    for path in (nested, huge):
        out = run_cli("profile", str(path), "--json")
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        payload = json.loads(out.stdout)
        assert payload["rows"] == 30 and payload["reading_notes"]
        kinds.update({row["column"]: row["kind"] for row in payload["profile"]})
    assert kinds["id"] == "identifier" and kinds["big"] == "identifier"


def test_bad_epochs_and_budget_are_plain_errors(tmp_path):
    for option, value in (("--epochs", "0"), ("--budget", "-1")):
        bad = run_cli("generate", "assets/samples/loans.csv", option, value, "--out", str(tmp_path / "x.csv"))
        assert bad.returncode == 2 and "positive number" in bad.stderr and "Traceback" not in bad.stderr


def test_unexpected_errors_print_no_traceback(monkeypatch, capsys):
    import cli

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_generators", broken)
    monkeypatch.delenv("SDS_DEBUG", raising=False)
    assert cli.main(["generators"]) == 1
    err = capsys.readouterr().err
    assert "Something unexpected went wrong" in err and "RuntimeError: boom" in err


def test_generate_and_sample_with_conditions(tmp_path):
    import pandas as pd

    out, model = tmp_path / "out.csv", tmp_path / "m.pt"
    made = run_cli("generate", "assets/samples/customers.csv", "--generator", "copula", "--rows", "400", "--out",
                   str(out), "--where", "contract=Two year", "--where", "monthly_charges>60", "--balance", "churn",
                   "--save-model", str(model))
    assert made.returncode == 0, made.stderr
    assert "with contract = Two year and monthly_charges > 60 and mix of churn" in made.stderr
    rows = pd.read_csv(out)
    assert len(rows) == 400 and (rows["contract"] == "Two year").all() and (rows["monthly_charges"] > 60).all()
    assert rows["churn"].value_counts().tolist() == [200, 200]
    again = run_cli("sample", str(model), "--rows", "100", "--out", str(out), "--balance", "churn=Yes:30%,No:70%")
    assert again.returncode == 0, again.stderr
    assert (pd.read_csv(out)["churn"] == "Yes").sum() == 30
    wrong = run_cli("sample", str(model), "--rows", "10", "--out", str(out), "--where", "contract=Two yeer")
    assert wrong.returncode == 2 and "Did you mean 'Two year'" in wrong.stderr and "Traceback" not in wrong.stderr
    early = run_cli("generate", "assets/samples/customers.csv", "--out", str(out), "--where", "contract>3")
    assert early.returncode == 2 and "takes =" in early.stderr and "training" not in early.stderr
    both = run_cli("generate", "assets/samples/customers.csv", "--out", str(out), "--where", "churn=Yes",
                   "--balance", "churn")  # equal shares wait for the model, but the clash is known before training
    assert both.returncode == 2 and "cannot also be mixed" in both.stderr and "training" not in both.stderr
