"""AppTest checks of the wizard pages: loading data, the profile, overrides and the guards."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tabular.dataset import load_dataset

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CSV = b"customer,email,plan,spend,joined\n" + b"".join(
    f"C{i:04d},user{i}@example.com,{['basic', 'pro'][i % 2]},{i * 1.5:.2f},2024-01-{i % 28 + 1:02d}\n".encode()
    for i in range(60)
)


def fresh(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def profile_table(at: AppTest):
    frames = [df.value for df in at.dataframe] + [
        e.value for e in at.get("arrow_data_frame") if hasattr(e, "value")]
    return next(f for f in frames if "Kind" in f.columns)


def test_upload_shows_profile_and_flags_personal_data():
    at = fresh()
    at.file_uploader(key="data_upload").upload("shop.csv", CSV, "text/csv").run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:2] == ["60", "5"]
    table = profile_table(at)
    kinds = dict(zip(table["Column"], table["Kind"]))
    assert kinds == {"customer": "Identifier", "email": "Email (personal)", "plan": "Category",
                     "spend": "Number", "joined": "Date/time"}
    handling = dict(zip(table["Column"], table["Handling"]))
    assert handling["email"] == "Fake values" and handling["customer"] == "New unique IDs"
    assert any("email" in w.value for w in at.warning)


def test_sample_dataset_loads():
    at = fresh()
    at.radio(key="data_sample").set_value("loans").run()
    at.button(key="data_load_sample").click().run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "10,000"
    assert "Consumer loans" in [s.value for s in at.subheader]


def test_bad_upload_gets_plain_message_and_keeps_previous_data():
    at = fresh()
    at.button(key="data_load_sample").click().run()
    at.file_uploader(key="data_upload").upload("broken.csv", b"\x00\x01\x02" * 400, "text/csv").run()
    assert not at.exception
    assert any("binary data" in e.value for e in at.error)
    assert at.metric[0].value == "7,043"  # the sample loaded before is still there


@pytest.mark.parametrize("page", ["pages/train.py", "pages/evaluate.py", "pages/export.py"])
def test_steps_without_data_explain_and_link_back(page):
    at = fresh(page)
    assert not at.exception and not at.error
    assert any("load" in i.value.lower() or "train" in i.value.lower() for i in at.info)


def test_sidebar_shows_progress():
    at = fresh()
    assert any("none loaded yet" in m.value for m in at.sidebar.markdown)
    # AppTest drops the sidebar on reruns of an st.navigation app, so check a first run with data
    # in the session (the browser test checks the rerun for real).
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = load_dataset(CSV, "shop.csv")
    at.run()
    texts = " ".join(m.value for m in at.sidebar.markdown)
    assert "shop" in texts and "60 rows × 5 columns" in texts and "not trained yet" in texts


def test_kind_override_changes_schema():
    at = fresh()
    at.file_uploader(key="data_upload").upload("shop.csv", CSV, "text/csv").run()
    dataset = at.session_state["dataset"]
    dataset.set_kind("spend", dataset.schema.column("plan").kind)  # as the editor callback does
    assert dataset.schema.column("spend").kind.value == "category"
    assert dataset.schema.column("spend").reason == "Chosen by you"
    problem = dataset.set_handling("plan", type(dataset.schema.column("email").handling)("fake"))
    assert problem and "personal-data" in problem


def _on_train_page_with_sample(preset_key=None):
    at = fresh()
    at.button(key="data_load_sample").click().run()
    at.switch_page("pages/train.py").run()
    return at


def test_train_page_trains_and_hands_model_over():
    at = _on_train_page_with_sample()
    assert [r.label for r in at.radio] == ["Generator"]
    at.radio(key="train_generator").set_value("copula").run()
    at.button(key="train_start").click().run()
    assert not at.exception
    job = at.session_state["train_job"]
    assert job.finished.wait(60) and job.state == "done"
    at.run()  # the page now shows the result and hands the model over
    assert not at.exception
    assert any("Gaussian copula" in s.value and "trained in" in s.value for s in at.success)
    assert at.session_state["model"] is job.result


def test_train_page_shows_queue_and_cancel(monkeypatch, mixed):
    from models import jobs

    queue = jobs.TrainingQueue(limit=1)
    monkeypatch.setattr(jobs, "QUEUE", queue)
    blocker = jobs.TrainingJob(jobs.TrainingRequest("vae", "fast", {"epochs": 100_000, "batch_size": 60}),
                               jobs.split_rows(mixed), mixed.schema)
    queue.submit(blocker)
    try:
        at = _on_train_page_with_sample()
        at.button(key="train_start").click().run()
        assert any("Waiting for a free training slot" in i.value for i in at.info)
        mine = at.session_state["train_job"]
        at.button(key="train_cancel").click().run()
        assert mine.finished.wait(10) and mine.state == "cancelled"
    finally:
        blocker.cancel()
        blocker.finished.wait(30)


def test_train_page_plain_message_when_nothing_to_learn():
    at = AppTest.from_file(APP, default_timeout=60)
    dataset = load_dataset(CSV, "shop.csv")
    for spec in dataset.schema.columns:
        dataset.set_handling(spec.name, type(spec.handling)("drop"))
    at.session_state["dataset"] = dataset
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    assert job.finished.wait(30)
    at.run()
    assert not at.exception
    assert any("nothing to learn" in e.value for e in at.error)


def test_train_page_suggests_the_automatic_pick_and_shows_the_measured_table():
    at = _on_train_page_with_sample()
    assert at.radio(key="train_generator").value == "auto"
    assert at.select_slider(key="train_auto_budget").value == 3  # minutes
    assert not at.segmented_control  # a race has a time budget, not a preset
    from models import registry

    figures = registry.measured()
    frames = [df.value for df in at.dataframe]
    pick = next((f for f in frames if "Privacy (attack, worst table)" in f.columns), None)
    if not figures:  # a copy without benchmark figures says so
        assert pick is None and any("No benchmark figures" in c.value for c in at.caption)
        return
    measured = [registry.card(n).title for n in registry.names() if n in figures]
    assert list(pick["Generator"]) == measured
    row = pick.set_index("Generator").loc[registry.card("bayesnet").title]
    assert row["Quality"] == pytest.approx(100 * figures["bayesnet"]["quality_median"])


def test_race_result_explains_and_opens_a_runner_up(mixed):
    at = _on_train_page_with_sample()
    at.multiselect(key="train_auto_candidates").set_value(["copula", "bayesnet"]).run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    assert job.finished.wait(120) and job.state == "done", job.error
    at.run()
    assert not at.exception
    assert any(s.value.startswith("Picked ") for s in at.success)
    runner = job.result.runners_up[0]
    at.button(key=f"train_race_use_{runner.model_id}").click().run()
    assert at.session_state["model"] is runner and set(at.session_state["models"]) == {
        job.result.model_id, runner.model_id}
