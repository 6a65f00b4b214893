"""In real Chromium: load a sample, see the profile table and the sidebar, upload a broken file."""

import io

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import shot

pytestmark = pytest.mark.browser


def test_sample_dataset_profile(page):
    page.get_by_role("tab", name="Try a sample").click()
    page.get_by_role("button", name="Load this sample").click()
    expect(page.get_by_text("What we understood.")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("7,043 rows × 25 columns")).to_be_visible()
    expect(page.get_by_text("Personal data found in full_name, email, phone")).to_be_visible()

    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    canvas = table.get_by_test_id("data-grid-canvas")
    box = canvas.bounding_box()
    assert box["height"] > 300 and box["width"] > 600  # one row per column: 25 rows
    colours = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # drawn cells, not an empty frame

    page.get_by_text("Look closer at a column").click()
    _choose_column(page, "monthly_charges")
    expect(page.get_by_text("Spread of values")).to_be_visible()
    expect(page.get_by_text("Kind: Number: All values are numbers.")).to_be_visible()
    assert shot(page, "data_profile").stat().st_size > 10_000


def test_broken_upload_shows_plain_message(page, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(bytes(range(256)) * 40)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(bad))
    expect(page.get_by_text("the file holds binary data")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    shot(page, "data_bad_upload")


def test_guarded_step_links_back(page, app_url):
    page.goto(f"{app_url}/evaluate")
    expect(page.get_by_text("This step needs a table to work on.")).to_be_visible()
    page.get_by_role("link", name="Go to step 1: Data").click()
    expect(page.get_by_role("heading", name="1 · Your data")).to_be_visible()


def _pick_in_grid(page, row: int, x_offset: int, option: str) -> None:
    """Open the dropdown of a grid cell (rows count from 0 below the header) and choose an option.

    The grid is drawn on a canvas and re-mounted after each edit, so the cell editor is opened again
    when the first double-click lands while the grid is being replaced.
    """
    canvas = page.get_by_test_id("data-grid-canvas").first
    choice = page.get_by_role("option", name=option, exact=True)
    for attempt in range(4):
        try:
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            page.mouse.dblclick(box["x"] + x_offset, box["y"] + 35 + row * 35 + 17)
            page.keyboard.type(option)  # filters the cell's dropdown ...
            expect(choice).to_be_visible(timeout=4000)
            break
        except (PlaywrightError, AssertionError):
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
    page.keyboard.press("Enter")  # ... and picks the match


def _choose_column(page, name: str) -> None:
    """Pick a column in the "Look closer" list; opened again when a rerun redraws it while it opens."""
    box = page.get_by_test_id("stSelectbox").filter(has_text="Column")
    option = page.get_by_role("option", name=name, exact=True)
    for attempt in range(4):
        try:
            box.click()
            page.keyboard.type(name)  # filters the list, which only draws the options in view
            option.click(timeout=5000)
            return
        except (PlaywrightError, AssertionError):
            if attempt == 3:
                raise
            page.keyboard.press("Escape")


def test_user_overrides_kind_and_handling(page):
    page.get_by_role("tab", name="Try a sample").click()
    page.get_by_role("button", name="Load this sample").click()
    learn = page.get_by_test_id("stMetric").filter(has_text="Columns to learn")
    expect(learn).to_contain_text("21")
    _pick_in_grid(page, row=5, x_offset=300, option="Drop")  # gender: synthesize -> drop
    expect(learn).to_contain_text("20")  # the rerun is done once the count changes
    _pick_in_grid(page, row=10, x_offset=160, option="Category")  # tenure: whole number -> category
    page.get_by_text("Look closer at a column").click()
    _choose_column(page, "tenure")
    expect(page.get_by_text("Kind: Category: Chosen by you.")).to_be_visible()
    shot(page, "data_override")
