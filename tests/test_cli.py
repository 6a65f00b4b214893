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
