"""In real Chromium: the privacy protections are explained on the Data and Train steps, and a private training
runs end to end with its budget shown."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.e2e.test_train_step import _load_sample_and_open_train

pytestmark = pytest.mark.browser


def test_protections_are_explained_and_can_be_turned_off(page):
    page.get_by_role("tab", name="Try a sample").click()
    page.get_by_role("button", name="Load this sample").click()
    summary = page.get_by_text(re.compile(r"Privacy protections are on: \d+ columns affected"))
    expect(summary).to_be_visible()
    summary.click()
    expect(page.get_by_text("become \"Other\", so a one-off value cannot point to one person")).to_be_visible()
    shot(page, "privacy_data_step")
    page.get_by_role("link", name="2 · Train").click()
    expect(page.get_by_text(re.compile("^Protections are on:"))).to_be_visible()
    page.get_by_text("Turn privacy protections off").click()
    expect(page.get_by_text("Protections are off.")).to_be_visible()
    shot(page, "privacy_off_warning")


def test_private_training_shows_its_budget(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Gaussian copula").click()
    expect(page.get_by_text("Gaussian copula cannot train with differential privacy")).to_be_visible()
    page.get_by_test_id("stRadio").get_by_text("Bayesian network").click()
    page.get_by_text("Differential privacy (a formal guarantee)").click()
    expect(page.get_by_text("Moderate privacy (epsilon 3).")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Strong")).click()
    expect(page.get_by_text("Strong privacy (epsilon 1).")).to_be_visible()
    shot(page, "privacy_dp_choice")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("trained in")).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"differential privacy spent epsilon (0\.\d\d|1\.00) of 1 \(strong"))).to_be_visible()
    shot(page, "privacy_dp_done")
