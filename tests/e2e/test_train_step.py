"""In real Chromium: train a sample dataset with the Fast preset, watch the live chart, cancel and restart."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot

EPOCH = re.compile(r"Epoch \d+ of \d+")  # the progress line once the first epoch has ended

pytestmark = pytest.mark.browser


def _load_sample_and_open_train(page):
    page.get_by_role("tab", name="Try a sample").click()
    page.get_by_role("button", name="Load this sample").click()
    expect(page.get_by_text("What we understood.")).to_be_visible()
    page.get_by_role("link", name="2 · Train").click()
    expect(page.get_by_role("heading", name="2 · Train a generator")).to_be_visible()


def test_train_fast_preset_shows_live_chart(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Gaussian copula").click()  # cards and choice are visible
    page.get_by_test_id("stRadio").get_by_text("Variational autoencoder (TVAE)").click()
    page.get_by_role("radio", name="Fast").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training Variational autoencoder (TVAE)…")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible()
    expect(page.get_by_text("Epoch", exact=False).first).to_be_visible()
    shot(page, "train_live")
    expect(page.get_by_text("trained in")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stSidebar").get_by_text("Variational autoencoder (TVAE), trained")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible()
    shot(page, "train_done")


@pytest.mark.parametrize("title", ["Autoregressive", "Diffusion", "Normalizing flow"])
def test_models_with_a_likelihood_train_with_held_out_line(page, title):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text(title).click()
    expect(page.get_by_text("Good at:").first).to_be_visible()
    page.get_by_role("radio", name="Fast").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(f"Training {title}…")).to_be_visible()
    expect(page.get_by_text(EPOCH)).to_be_visible(timeout=60_000)
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart.get_by_text("held-out loss")).to_be_visible()  # the likelihood of unseen rows, live
    shot(page, f"train_live_{title.lower()}")
    expect(page.get_by_text("trained in")).to_be_visible(timeout=240_000)
    expect(page.get_by_text("on rows it never learned")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").get_by_text("held-out loss")).to_be_visible()
    shot(page, f"train_done_{title.lower()}")


def test_rbm_trains_in_the_browser(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Restricted Boltzmann machine (RBM)").click()
    expect(page.get_by_text("rare combinations are smoothed away").first).to_be_visible()  # its card is honest
    page.get_by_role("radio", name="Fast").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training Restricted Boltzmann machine (RBM)…")).to_be_visible()
    expect(page.get_by_text("trained in")).to_be_visible(timeout=240_000)
    expect(page.get_by_test_id("stPlotlyChart").get_by_text("free_energy_gap loss")).to_be_visible()
    shot(page, "train_done_rbm")


def test_cancel_then_train_another(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Conditional GAN (CTGAN)").click()
    page.get_by_role("radio", name="Best quality").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(EPOCH)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Cancel training").click()
    expect(page.get_by_text("Training was cancelled")).to_be_visible(timeout=30_000)
    shot(page, "train_cancelled")
    page.get_by_role("button", name="Train another generator").click()
    page.get_by_test_id("stRadio").get_by_text("Gaussian copula").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Gaussian copula** trained").or_(page.get_by_text("trained in"))).to_be_visible(
        timeout=60_000)


def test_other_user_stays_responsive_and_training_survives_page_switch(page, browser, app_url):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Conditional GAN (CTGAN)").click()
    page.get_by_role("radio", name="Best quality").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(EPOCH)).to_be_visible(timeout=60_000)

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(app_url)
    other.get_by_role("tab", name="Try a sample").click()
    other.get_by_test_id("stRadio").get_by_text("Consumer loans").click()
    other.get_by_role("button", name="Load this sample").click()
    expect(other.get_by_text("What we understood.")).to_be_visible(timeout=30_000)
    expect(other.get_by_test_id("stSidebar").get_by_text("10,000 rows × 22 columns")).to_be_visible()
    other.context.close()

    page.get_by_role("link", name="1 · Data").click()
    expect(page.get_by_test_id("stSidebar").get_by_text("training…")).to_be_visible()
    page.get_by_role("link", name="2 · Train").click()
    expect(page.get_by_text("Training Conditional GAN (CTGAN)…")).to_be_visible()
    page.get_by_role("button", name="Cancel training").click()
    expect(page.get_by_text("Training was cancelled")).to_be_visible(timeout=30_000)


def test_automatic_pick_races_explains_and_opens_a_runner_up(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Automatic pick").click()
    expect(page.get_by_text("Time budget", exact=True)).to_be_visible()
    page.get_by_text("Advanced settings").click()
    for title in ("Variational autoencoder (TVAE)", "Autoregressive", "Diffusion"):  # two quick candidates
        page.get_by_label(f"Remove {title}").click()
    expect(page.get_by_label("Remove Autoregressive")).to_have_count(0)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Racing generators").or_(page.get_by_text("Picked "))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Picked (Gaussian copula|Bayesian network): its rows matched"))).to_be_visible(
        timeout=120_000)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.get_by_text("Gaussian copula")).to_be_visible()  # one line per candidate
    expect(chart.get_by_text("Bayesian network")).to_be_visible()
    expect(page.get_by_text("In use", exact=True)).to_have_count(1)
    shot(page, "train_auto_done")
    sidebar = page.get_by_test_id("stSidebar")
    before = sidebar.get_by_text(re.compile(r", trained$")).inner_text()
    page.get_by_role("button", name="Use this one").click()  # the runner-up
    expect(sidebar.get_by_text(re.compile(r", trained$"))).not_to_have_text(before)
    expect(page.get_by_text("In use", exact=True)).to_have_count(1)
    shot(page, "train_auto_runner_up")
