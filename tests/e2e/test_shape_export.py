"""In real Chromium: the Export step shapes the output: rows of a rare class, a 50/50 table, real rows augmented."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.e2e.test_train_step import _load_sample_and_open_train

pytestmark = pytest.mark.browser


def _train_bayesnet(page):
    _load_sample_and_open_train(page)
    page.get_by_test_id("stRadio").get_by_text("Bayesian network").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("trained in")).to_be_visible(timeout=120_000)
    page.get_by_role("link", name="4 · Export").click()
    expect(page.get_by_role("heading", name="4 · Export")).to_be_visible()


def _generate_and_download(page, made: str, file_part: str) -> list[dict]:
    """Generate, wait for a text only this result shows, and read the downloaded CSV."""
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text(made)).to_be_visible(timeout=180_000)
    with page.expect_download() as download:
        page.get_by_role("button", name=file_part, exact=False).click()
    return list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))


def test_rare_class_rows_then_a_balanced_table(page):
    _train_bayesnet(page)
    rows = page.get_by_test_id("stNumberInput").filter(has_text="Rows").first.locator("input")
    rows.fill("10000")
    rows.press("Enter")
    page.get_by_text("Only rows of a certain kind").click()
    condition = page.get_by_test_id("stSelectbox").filter(has_text="Value")
    condition.click()
    page.get_by_role("option", name="Yes", exact=True).click()  # churn (the first yes/no column) is Yes
    expect(page.get_by_text("10,000 rows with churn = Yes.")).to_be_visible()
    got = _generate_and_download(page, "Made 10,000 synthetic rows", "Download telecom_customers_synthetic.csv")
    assert len(got) == 10_000 and {r["churn"] for r in got} == {"Yes"}
    expect(page.get_by_text("Before and after")).to_be_visible()
    expect(page.get_by_text("the other columns match", exact=False)).to_be_visible()
    shot(page, "export_rare_class")

    page.get_by_text("Rebalanced: choose the mix of a column").click()
    page.get_by_role("button", name="Equal shares").click()
    expect(page.get_by_text("mix of churn: No 50%, Yes 50%", exact=False)).to_be_visible()
    got = _generate_and_download(page, "churn = No: the other columns match", "Download telecom_customers_synthetic.csv")
    assert sum(r["churn"] == "Yes" for r in got) == 5_000
    shot(page, "export_balanced")

    page.get_by_role("link", name="3 · Evaluate").click()
    page.get_by_role("tab", name="Shaped exports (2)").click(timeout=120_000)
    expect(page.get_by_text("churn = Yes", exact=False).filter(visible=True).first).to_be_visible()
    shot(page, "evaluate_shaped")


def test_augmented_table_keeps_real_rows_and_says_so(page):
    _train_bayesnet(page)
    page.get_by_text("My real table plus synthetic rows of a rare case").click()
    expect(page.get_by_text("This file contains your real rows", exact=False).first).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Value").click()
    page.get_by_role("option", name="Yes", exact=True).click()
    added = page.get_by_test_id("stNumberInput").filter(has_text="Rows to add").locator("input")
    expect(added).to_have_value("3305")  # evens churn out: 5,174 stay, 1,869 leave
    got = _generate_and_download(page, "your 7,043 real rows and 3,305 synthetic ones", "Download telecom_customers_augmented.csv")
    flags = [r["synthetic_row"] for r in got]
    assert flags.count("no") == 7_043 and flags.count("yes") == 3_305
    assert {r["churn"] for r in got if r["synthetic_row"] == "yes"} == {"Yes"}
