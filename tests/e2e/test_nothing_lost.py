"""In real Chromium: a deep link opened first, a server killed mid-training and started again, a refresh."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, free_port, new_tab, shot
from tests.e2e.test_train_step import _load_sample_and_open_train

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
EPOCH = re.compile(r"Epoch (\d+) of (\d+)")


@pytest.fixture
def own_server(tmp_path):
    """A server of this test's own (a fresh process, so no page has been loaded yet), checkpointing every second."""
    server = Server(free_port(), tmp_path / "streamlit.log", SDS_WORKSPACE=str(tmp_path / "workspace"),
                    SDS_CHECKPOINT_SECONDS="1")
    yield server.start()
    server.stop()


def _wait_for(condition, timeout: float = 60, what: str = "condition") -> None:
    """Poll something outside the browser (a file on disk) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _epoch(tab) -> int:
    return int(EPOCH.search(tab.get_by_text(EPOCH).first.inner_text()).group(1))


def _start_long_training(tab, epochs: int) -> None:
    tab.get_by_role("tab", name="Try a sample").click()
    tab.get_by_text("Keep a copy of my table").click()
    tab.get_by_role("button", name="Load this sample").click()
    expect(tab.get_by_text("What we understood.")).to_be_visible()
    tab.get_by_role("link", name="2 · Train").click()
    tab.get_by_test_id("stRadio").get_by_text("Variational autoencoder (TVAE)").click()
    tab.get_by_role("radio", name="Fast").click()
    tab.get_by_text("Advanced settings").click()
    box = tab.get_by_role("spinbutton", name="Epochs")
    expect(box).to_have_value("30")  # the Fast preset's box, once the Balanced one (150) is gone
    box.fill(str(epochs))
    box.press("Enter")
    expect(box).to_have_value(str(epochs))
    tab.get_by_role("button", name="Start training").click()
    expect(tab.get_by_text(EPOCH).first).to_be_visible()


def test_deep_link_then_restart_mid_training_resumes(browser, own_server, tmp_path):
    tab = new_tab(browser)
    tab.goto(own_server.url + "/train")  # the first page this server ever serves is a deep link
    sidebar = tab.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Your project")).to_be_visible()  # the app's own sidebar, not a list of files
    expect(sidebar.get_by_role("link", name="2 · Train")).to_be_visible()
    expect(sidebar.get_by_text("evaluate", exact=True)).to_have_count(0)
    shot(tab, "deep_link_train")
    sidebar.get_by_role("link", name="1 · Data").click()

    _start_long_training(tab, epochs=5000)
    checkpoints = tmp_path / "workspace"
    _wait_for(lambda: _epoch(tab) >= 5, what="five epochs")
    seen = time.time()
    _wait_for(lambda: any(p.stat().st_mtime > seen for p in checkpoints.glob("*/trainings/*.pt")),
              what="a checkpoint after epoch 5")
    own_server.kill()  # as a crash would: no clean shutdown
    expect(tab.get_by_test_id("sds-reconnect-note")).to_be_visible()
    expect(tab.get_by_text("The app is not reachable right now")).to_be_visible()
    expect(tab.get_by_text("Are you connected to the internet")).to_be_hidden()
    shot(tab, "reconnect_message")

    own_server.start()  # the open tab reconnects by itself and finds its project from the address bar
    interrupted = tab.get_by_text(re.compile(r"was interrupted at epoch \d+ of 5000"))
    expect(interrupted).to_be_visible(timeout=90_000)
    stopped_at = int(re.search(r"epoch (\d+)", interrupted.inner_text()).group(1))
    assert stopped_at >= 5
    expect(tab.get_by_text("The app stopped while it was training.")).to_be_visible()
    shot(tab, "train_interrupted")

    tab.get_by_role("button", name="Resume").click()
    expect(tab.get_by_text("Training Variational autoencoder (TVAE)…")).to_be_visible()
    expect(tab.get_by_text(EPOCH).first).to_be_visible()
    assert _epoch(tab) >= stopped_at  # the chart and progress keep what was done before the restart ...
    _wait_for(lambda: _epoch(tab) > stopped_at, what="an epoch after the checkpoint")  # ... and it goes on
    shot(tab, "train_resumed")
    tab.get_by_role("button", name="Cancel training").click()
    expect(tab.get_by_text("trained in")).to_be_visible(timeout=60_000)
    expect(sidebar.get_by_text("Variational autoencoder (TVAE), trained")).to_be_visible()
    expect(tab.get_by_text("was interrupted")).to_have_count(0)
    assert len(list(Path(checkpoints).glob("*/models/*.pt"))) == 1  # the model was kept in the project
    tab.context.close()


def test_refresh_reattaches_to_the_running_training(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Conditional GAN (CTGAN)").click()
    page.get_by_role("radio", name="Best quality").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(EPOCH).first).to_be_visible()
    before = _epoch(page)

    page.reload()  # a new browser session: the address bar names the project, the server still runs its training
    expect(page.get_by_text("Training Conditional GAN (CTGAN)…")).to_be_visible()
    expect(page.get_by_text(EPOCH).first).to_be_visible()
    assert _epoch(page) >= before
    expect(page.get_by_test_id("stSidebar").get_by_text("training…")).to_be_visible()
    shot(page, "train_after_refresh")
    page.get_by_role("button", name="Cancel training").click()
    expect(page.get_by_text("Training was cancelled", exact=False)).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stSidebar").get_by_text("Conditional GAN (CTGAN), trained")).to_be_visible()
