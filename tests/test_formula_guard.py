"""Safe exports: text that a spreadsheet could run as a formula is neutralised, reversibly; model files hold no code."""

import io
import pickle
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from models import registry
from models.base import Generator, ModelError
from tabular.dataset import load_dataset
from tabular.export import export_file, table_bytes
from tabular.fidelity_check import export_problems
from tabular.formula_guard import TRIGGERS, guarded, neutralise, note, restore

TEAMS = ["=SUM(A1:A9)", "+plus", "-minus", "@at", "plain", "'=quoted"]
ATTACK = "=cmd|' /C calc'!A0"


def _csv(n: int = 60) -> bytes:
    rows = ["team,amount,comment,joined,member"]
    for i in range(n):
        rows.append(f"{TEAMS[i % 6]},{-i * 1.25:.2f},\"{ATTACK}\",2024-01-{i % 28 + 1:02d},{'yes' if i % 2 else 'no'}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def risky():
    return load_dataset(_csv(), "risky.csv")


# Text with the characters that matter most often: apostrophes and triggers, at the start in particular.
texts = st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("'=+-@\t\rab 1")), max_size=6),
                           st.text(max_size=8)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_restore_undoes_neutralise_for_any_text(values):
    for dtype in (object, pd.StringDtype("pyarrow")):
        series = pd.Series(values, dtype=dtype)
        safe = neutralise(series)
        pd.testing.assert_series_equal(restore(safe), series)
        assert not any(isinstance(v, str) and v.startswith(TRIGGERS) for v in safe)  # nothing left to run


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_trigger_gets_one_apostrophe_more(trigger):
    series = pd.Series([f"{trigger}x", f"'{trigger}x", f"''{trigger}", "x" + trigger])
    safe = neutralise(series)
    assert safe.tolist() == [f"'{trigger}x", f"''{trigger}x", f"'''{trigger}", "x" + trigger]
    assert guarded(series).tolist() == [True, True, True, False]
    assert restore(safe).tolist() == series.tolist()


def test_other_text_numbers_and_missing_values_are_left_alone():
    plain = pd.Series(["plain", "a=b", "", "'", "''x", " =x", None])
    assert neutralise(plain).tolist() == plain.tolist() and restore(plain).tolist() == plain.tolist()
    numbers = pd.Series([-1.5, 2.0, None])
    assert neutralise(numbers) is numbers and restore(numbers) is numbers


def test_csv_protects_text_columns_only(risky):
    frame = risky.typed()
    lines = table_bytes(frame, risky.schema, "CSV").decode().splitlines()
    assert lines[1] == "'=SUM(A1:A9),0.00,'=cmd|' /C calc'!A0,2024-01-01,no"
    assert lines[2].startswith("'+plus,-1.25,") and lines[6].startswith("''=quoted,-6.25,")  # numbers stay numbers
    assert table_bytes(frame, risky.schema, "CSV", protect=False).decode().splitlines()[1].startswith("=SUM")
    assert export_file(frame, risky.schema, "CSV")[1] == 50 + 60  # 5 of 6 teams, every comment
    assert export_file(frame, risky.schema, "Parquet")[1] == 0


def test_excel_cells_are_plain_strings_not_formulas(risky):
    frame = risky.typed()

    def first_row(protect: bool) -> list:
        sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, risky.schema, "Excel", protect))).active
        return [(cell.value, cell.data_type) for cell in sheet[2]]

    protected = first_row(True)
    assert protected[0] == ("'=SUM(A1:A9)", "s") and protected[2] == (f"'{ATTACK}", "s")
    assert protected[1] == (0, "n") and protected[3][1] == "d" and protected[4] == ("no", "s")
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, risky.schema, "Excel"))).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert first_row(False)[0] == ("=SUM(A1:A9)", "f")  # what protection prevents


def test_parquet_is_left_unchanged(risky):
    frame = risky.typed()
    back = pd.read_parquet(io.BytesIO(table_bytes(frame, risky.schema, "Parquet")))
    assert back["team"].tolist() == frame["team"].tolist()


@pytest.mark.parametrize("file_format", ["CSV", "TSV", "Excel", "Parquet"])
def test_protected_exports_read_back_faithful(risky, file_format):
    sample = registry.create("copula").fit(risky.typed(), risky.schema, seed=0).sample(80, seed=0)
    assert export_problems(table_bytes(sample, risky.schema, file_format), file_format, risky.schema) == []
    kept = table_bytes(sample, risky.schema, file_format, protect=False)
    assert export_problems(kept, file_format, risky.schema, protected=False) == []
    if file_format != "Parquet":  # unrestored, the apostrophes would be new categories: the check needs restore
        assert export_problems(table_bytes(sample, risky.schema, file_format), file_format, risky.schema,
                               protected=False)


def test_note_says_how_many_and_how_to_undo():
    assert note(0) == ""
    text = note(1234)
    assert "1,234 text cells" in text and "remove one leading apostrophe" in text


def test_cli_protects_by_default_and_keeps_formulas_when_asked(risky, tmp_path, capsys):
    model = tmp_path / "risky.pt"
    registry.create("copula").fit(risky.typed(), risky.schema, seed=0).save(model)
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    assert cli.main(["sample", str(model), "--rows", "40", "--out", str(safe), "--seed", "1"]) == 0
    assert "apostrophe" in capsys.readouterr().err
    assert cli.main(["sample", str(model), "--rows", "40", "--out", str(raw), "--seed", "1", "--keep-formulas"]) == 0
    assert "apostrophe" not in capsys.readouterr().err
    safe_rows, raw_rows = pd.read_csv(safe, dtype=str), pd.read_csv(raw, dtype=str)
    assert not safe_rows["comment"].str.startswith(TRIGGERS).any() and raw_rows["comment"].eq(ATTACK).all()
    assert restore(safe_rows["team"]).tolist() == raw_rows["team"].tolist()
    assert safe_rows["amount"].tolist() == raw_rows["amount"].tolist()
    parse = cli.build_parser().parse_args
    assert parse(["generate", "t.csv", "--out", "s.csv", "--keep-formulas"]).keep_formulas
    assert not parse(["generate", "t.csv", "--out", "s.csv"]).keep_formulas


def test_model_file_holds_only_tensors_and_plain_data(risky):
    content = registry.create("copula").fit(risky.typed(), risky.schema, seed=0).to_bytes()
    checkpoint = torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)  # refuses any object
    assert isinstance(checkpoint, dict) and checkpoint["generator"] == "copula"


class _Trap:
    """An object whose unpickling would create a file: what a malicious 'model' would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_posing_as_a_model_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Trap(tmp_path / "control")))  # the trap works where pickles are trusted
    assert (tmp_path / "control").exists()
    for write in (lambda f: torch.save({"format": 1, "payload": _Trap(marker)}, f),
                  lambda f: pickle.dump(_Trap(marker), f)):
        buffer = io.BytesIO()
        write(buffer)
        with pytest.raises(ModelError, match="not a model file saved by Synthetic Data Studio"):
            Generator.load(buffer.getvalue())
        assert not marker.exists()


def test_export_step_protects_by_default_and_says_how_to_undo(risky):
    import time

    from streamlit.testing.v1 import AppTest

    from models.jobs import TrainedModel

    model = registry.create("copula").fit(risky.typed(), risky.schema, seed=0)
    trained = TrainedModel("copula", "balanced", model, model.report_, time.time(), real_rows=risky.n_rows)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90)
    at.session_state["dataset"], at.session_state["model"] = risky, trained
    at.session_state["models"] = {trained.model_id: trained}
    at.run()
    at.switch_page("pages/export.py").run()
    assert at.checkbox(key="export_protect").value  # on by default
    at.number_input(key="export_rows").set_value(50)
    at.button(key="export_generate").click().run()
    assert at.session_state["export_task"].finished.wait(120)
    at.run()
    assert not at.exception
    result, content, *_ = at.session_state["export_task"].result
    assert result.protected_cells > 0 and content.decode().count("\n'") > 0
    assert any(f"{result.protected_cells:,} text cell" in i.value and "remove one leading apostrophe" in i.value
               for i in at.info)
    at.checkbox(key="export_protect").uncheck().run()
    at.button(key="export_generate").click().run()
    assert at.session_state["export_task"].finished.wait(120)
    at.run()
    result, content, *_ = at.session_state["export_task"].result
    assert result.protected_cells == 0 and ",=cmd|" in content.decode() and ",'=cmd|" not in content.decode()


def test_headers_are_protected_and_constant_numbers_are_not():
    from tabular.dataset import load_dataset
    from tabular.export import table_bytes

    csv_text = "=HYPERLINK(\"http://x\"),level,plan\n1,-3,a\n2,-3,b\n3,-3,a\n"
    dataset = load_dataset(csv_text.encode(), "odd.csv")
    content = table_bytes(dataset.typed(), dataset.schema, "CSV").decode()
    header, first = content.splitlines()[:2]
    assert header.startswith("'=HYPERLINK") or header.startswith("\"'=HYPERLINK")
    assert "'-3" not in content and "-3" in first
