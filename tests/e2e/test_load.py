"""In real Chromium: five people upload, train, evaluate and export at once on one server; memory stays bounded."""

import io
import threading
import time

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, free_port, shot

pytestmark = pytest.mark.browser
USERS = 5
ROWS = 3000
MEMORY_HEADROOM = 2 * 1024**3  # bytes the five sessions together may add to the server's resident memory


def _table(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "team"], ROWS, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame({
        "plan": plan,
        "seats": rng.integers(1, 50, ROWS),
        "spend": np.round(rng.lognormal(3, 0.6, ROWS) * np.where(plan == "team", 3, 1), 2),
        "region": rng.choice(["north", "south", "east", "west"], ROWS),
        "renewed": rng.choice(["yes", "no"], ROWS),
        "signed_up": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 600, ROWS), unit="D"),
    })
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


class _MemoryWatch:
    """Samples a process's resident memory in the background (from /proc) and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, self.now())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def server(tmp_path):
    server = Server(free_port(), tmp_path / "streamlit.log", SDS_WORKSPACE=str(tmp_path / "workspace"))
    yield server.start()
    server.stop()


def _each(tabs, action) -> None:
    for tab in tabs:
        action(tab)


def _upload(tab, path) -> None:
    tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))


def _train(tab, generator: str) -> None:
    tab.get_by_role("link", name="2 · Train").click()
    tab.get_by_test_id("stRadio").get_by_text(generator).click()
    tab.get_by_role("radio", name="Fast").click()
    tab.get_by_role("button", name="Start training").click()


def _export(tab) -> None:
    tab.get_by_role("link", name="4 · Export").click()
    tab.get_by_role("button", name="Generate").click()


def test_five_sessions_at_once(browser, server, tmp_path):
    expect.set_options(timeout=240_000)  # five trainings share two cores: each waits its turn
    files = []
    for user in range(USERS):
        files.append(tmp_path / f"team_{user}.csv")
        files[-1].write_bytes(_table(user))
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                for _ in range(USERS)]
    tabs = [context.new_page() for context in contexts]
    _each(tabs, lambda tab: tab.set_default_timeout(240_000))
    _each(tabs, lambda tab: tab.goto(server.url))
    _each(tabs, lambda tab: expect(tab.get_by_test_id("stFileUploaderDropzoneInput")).to_be_attached())
    started = time.monotonic()
    with _MemoryWatch(server.proc.pid) as memory:
        baseline = memory.now()
        for tab, path in zip(tabs, files):
            _upload(tab, path)
        _each(tabs, lambda tab: expect(tab.get_by_text("What we understood.")).to_be_visible())
        for user, tab in enumerate(tabs):  # five neural trainings share the server's training slots
            _train(tab, "Variational autoencoder (TVAE)" if user % 2 == 0 else "Conditional GAN (CTGAN)")
        _each(tabs, lambda tab: expect(tab.get_by_text("trained in")).to_be_visible())
        shot(tabs[-1], "load_trained")
        _each(tabs, lambda tab: tab.get_by_role("link", name="Next: evaluate").click())
        _each(tabs, lambda tab: expect(tab.get_by_role("heading", name="Quality")).to_be_visible())
        _each(tabs, _export)
        _each(tabs, lambda tab: expect(tab.get_by_text("Made", exact=False).first).to_be_visible())
        shot(tabs[-1], "load_exported")
        for user, tab in enumerate(tabs):
            with tab.expect_download() as download:
                tab.get_by_role("button", name=f"Download team_{user}_synthetic.csv", exact=False).click()
            exported = pd.read_csv(download.value.path())
            assert list(exported.columns) == ["plan", "seats", "spend", "region", "renewed", "signed_up"]
            assert len(exported) > 0
    took = time.monotonic() - started
    grown = memory.peak - baseline
    print(f"\n{USERS} sessions: {took:.0f} s; server memory {baseline / 2**20:.0f} MiB before, "
          f"peak {memory.peak / 2**20:.0f} MiB (+{grown / 2**20:.0f} MiB)")
    assert grown < MEMORY_HEADROOM
    _each(contexts, lambda context: context.close())
    expect.set_options(timeout=5_000)
