"""In real Chromium: sample -> train (Fast) -> evaluate -> download CSV and report -> refresh -> reopen."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot

pytestmark = pytest.mark.browser


def _train_fast_vae(page):
    page.get_by_role("tab", name="Try a sample").click()
    page.get_by_text("Keep a copy of my table").click()
    expect(page.get_by_role("checkbox", name="Keep a copy of my table")).to_be_checked()
    page.get_by_role("button", name="Load this sample").click()
    expect(page.get_by_text("What we understood.")).to_be_visible()
    page.get_by_role("link", name="2 · Train").click()
    page.get_by_test_id("stRadio").get_by_text("Variational autoencoder (TVAE)").click()
    page.get_by_role("radio", name="Fast").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("trained in")).to_be_visible(timeout=180_000)


def _evaluate(page):
    page.get_by_role("link", name="Next: evaluate").click()
    expect(page.get_by_text("Quality", exact=False).first).to_be_visible()
    expect(page.get_by_role("heading", name="Quality")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Privacy:")).to_be_visible()
    shot(page, "evaluate_headline")
    for tab in ("Pair trends", "Privacy", "Compare generators (1)"):
        page.get_by_role("tab", name=tab).click()
        shot(page, "evaluate_" + tab.split(" (")[0].lower().replace(" ", "_"))
    with page.expect_download(timeout=120_000) as report:
        page.get_by_role("button", name="Download the report (HTML)").click()
    html = open(report.value.path(), encoding="utf-8").read()
    assert "Privacy" in html and "plotly" in html.lower() and len(html) > 100_000  # charts inline, offline
    return html


def _export_csv(page):
    page.get_by_role("link", name="Next: export the synthetic data").click()
    expect(page.get_by_role("heading", name="4 · Export")).to_be_visible()
    rows = page.get_by_test_id("stNumberInput").filter(has_text="Rows").locator("input")
    rows.fill("500")
    rows.press("Enter")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Made 500 synthetic rows")).to_be_visible(timeout=60_000)
    shot(page, "export_done")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download telecom_customers_synthetic.csv", exact=False).click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    return rows


def test_journey_train_evaluate_export_refresh_reopen(page):
    page.get_by_role("tab", name="Try a sample").click()  # the customers sample is the default choice
    _train_fast_vae(page)
    _evaluate(page)
    rows = _export_csv(page)
    assert len(rows) == 500
    assert list(rows[0])[:4] == ["customer_id", "full_name", "email", "phone"]  # original order, kept columns
    assert len({r["customer_id"] for r in rows}) == 500  # new IDs are unique

    page.reload()  # a refresh starts a new browser session: the address bar brings the project back
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("7,043 rows × 25 columns")).to_be_visible()
    expect(sidebar.get_by_text("Variational autoencoder (TVAE), trained")).to_be_visible()
    expect(sidebar.get_by_text("quality", exact=False)).to_be_visible()
    page.get_by_role("link", name="3 · Evaluate").click()
    expect(page.get_by_role("heading", name="Quality")).to_be_visible()  # scores come back without rescoring
    shot(page, "reopened_evaluate")
    assert page.external_requests == []  # no fonts, icons or scripts from the internet
