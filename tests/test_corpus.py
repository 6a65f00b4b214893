"""Every odd file in the corpus ends in the right table or a plain refusal, through reading, typing and profiling."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import cli
from tabular.dataset import load_dataset
from tabular.errors import DataReadError
from tabular.io import read_table
from tests.corpus import Case, all_cases, file_name

CASES = all_cases()
BY_NAME = {case.name: case for case in CASES}
CLI_GOOD = ["mixed_endings", "unbalanced_quote", "parquet_list_struct", "ints_over_2_63"]
CLI_BAD = ["json_named_csv", "zip_two_files", "pdf_named_csv", "empty_file"]
DTYPE_CHECKS = {"text": lambda s: isinstance(s.dtype, pd.StringDtype), "float": pd.api.types.is_float_dtype,
                "int": pd.api.types.is_integer_dtype, "datetime": pd.api.types.is_datetime64_any_dtype,
                "bool": pd.api.types.is_bool_dtype}


def write(case: Case, folder: Path) -> Path:
    path = folder / file_name(case)
    path.write_bytes(case.build())
    return path


def test_the_corpus_is_broad():
    assert len(CASES) >= 60 and len(BY_NAME) == len(CASES)
    per_category = Counter(case.category for case in CASES)
    assert len(per_category) == 10 and min(per_category.values()) >= 4, per_category
    assert all(bool(case.error) != bool(case.shape) for case in CASES)


def check_frame(case: Case, frame: pd.DataFrame, notes: list[str]) -> None:
    assert frame.shape == case.shape
    for column, cells in case.values.items():
        for row, expected in cells.items():
            actual = frame[column].iloc[row]
            assert pd.isna(actual) if expected is None else actual == expected, (column, row, actual, expected)
    for column, kind in case.dtypes.items():
        assert DTYPE_CHECKS[kind](frame[column]), (column, frame[column].dtype)
    if case.note:
        assert any(case.note in note for note in notes), notes


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name, marks=pytest.mark.xfail(reason=case.known_issue))
                                  if case.known_issue else pytest.param(case, id=case.name) for case in CASES])
def test_case_reads_right_or_is_refused_in_plain_words(case, tmp_path):
    path = write(case, tmp_path)
    if case.error:
        for read in (read_table, load_dataset):
            with pytest.raises(DataReadError) as info:
                read(path)
            assert case.error in info.value.message
        return
    result = read_table(path)
    check_frame(case, result.frame, result.report.notes)
    dataset = load_dataset(path)  # typing and profiling must not fail either
    check_frame(case, dataset.raw, dataset.report.notes)
    assert len(dataset.typed()) == case.shape[0]
    assert [row["column"] for row in dataset.profile_rows()] == list(dataset.raw.columns)


@pytest.mark.parametrize("name", CLI_GOOD + CLI_BAD)
def test_cli_profile_on_a_sample(name, tmp_path, capsys):
    case = BY_NAME[name]
    code = cli.main(["profile", str(write(case, tmp_path)), "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if case.error:
        assert code == 2 and "error: " in err and case.error in err
    else:
        assert code == 0 and json.loads(out)["rows"] == case.shape[0]


def test_cli_subprocess_refuses_without_traceback(tmp_path):
    path = write(BY_NAME["html_named_csv"], tmp_path)
    run = subprocess.run([sys.executable, "cli.py", "profile", str(path)], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "web page (HTML)" in run.stderr and "Traceback" not in run.stderr
