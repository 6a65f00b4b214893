"""Start the real app on a free port and drive it with Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage"]


def browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a server that is starting: nothing to wait on but the port
    raise TimeoutError("streamlit did not become healthy in time")


class Server:
    """``streamlit run app.py`` on a port, which a test may kill (as a crash would) and start again."""

    def __init__(self, port: int, log_path: Path, **env: str) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.log = log_path.open("a")
        self.env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **env)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        _wait_healthy(self.url, self.proc)
        return self

    def kill(self) -> None:
        """Stop at once, with no chance to clean up: what a crash or a power cut does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def free_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    server = Server(_free_port(), tmp_path_factory.mktemp("server") / "streamlit.log")
    try:
        yield server.start().url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        message = "Debian's Chromium is not installed (make test installs it when run as root)"
        if browser_required():
            pytest.fail(message + "; browser tests are required here")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.external_requests = []  # the app must work offline: nothing may be fetched from elsewhere
    tab.on("request", lambda r: r.url.startswith(("http", "ws")) and not r.url.startswith(
        (app_url, app_url.replace("http", "ws"))) and tab.external_requests.append(r.url))
    tab.goto(app_url)
    yield tab
    context.close()


@pytest.fixture
def patient_expect():
    """Longer waits for tests that start a fresh server of their own (it imports PyTorch on its first run)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=5_000)


def new_tab(browser):
    """A tab in a browser context of its own (cookies, storage), as another person or a reopened browser has."""
    tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    tab.set_default_timeout(60_000)
    return tab


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
