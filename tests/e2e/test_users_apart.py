"""In real Chromium, on a shared server: two people, two spaces, and no way from one into the other."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, free_port, new_tab, shot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
ADA, BOB = ("Ada", "ada's long passphrase"), ("Bob", "bob's long passphrase")
STEPS = ["1 · Data", "2 · Train", "3 · Evaluate", "4 · Export"]
NOT_HERS = "does not exist or belongs to someone else"


@pytest.fixture
def shared_server(tmp_path):
    """A server of this test's own, marked shared, with a workspace of its own."""
    server = Server(free_port(), tmp_path / "streamlit.log", SDS_SHARED="1", SDS_WORKSPACE=str(tmp_path / "ws"))
    yield server.start()
    server.stop()


def _field(tab, label: str):
    return tab.get_by_label(label, exact=True).filter(visible=True)


def _create_space(tab, url: str, who: tuple[str, str]) -> None:
    tab.goto(url)
    expect(tab.get_by_role("heading", name="Who is working?")).to_be_visible()
    tab.get_by_role("tab", name="Create my space").click()
    _field(tab, "Your name").fill(who[0])
    _field(tab, "Choose a passphrase (at least 8 characters)").fill(who[1])
    _field(tab, "Type it again").fill(who[1])
    tab.get_by_role("button", name="Create my space").click()
    expect(tab.get_by_test_id("stSidebar").get_by_text(who[0], exact=True)).to_be_visible()


def _sign_in(tab, who: tuple[str, str]) -> None:
    expect(tab.get_by_role("heading", name="Who is working?")).to_be_visible()
    _field(tab, "Your name").fill(who[0])
    _field(tab, "Passphrase").fill(who[1])
    tab.get_by_role("button", name="Sign in").click()


def _no_trace_of(tab, project: str) -> None:
    """Nothing of Ada's project on this page: no Open button for it, no line of it, no table of it."""
    expect(tab.locator(f".st-key-data_open_{project}")).to_have_count(0)
    expect(tab.get_by_text("7,043 rows", exact=False)).to_have_count(0)
    expect(tab.get_by_test_id("stSidebar").get_by_text("Telecom customers")).to_have_count(0)


def _ada_trains_a_model(tab, url: str) -> str:
    _create_space(tab, url, ADA)
    shot(tab, "users_signed_in_empty")
    tab.get_by_role("tab", name="Try a sample").click()
    tab.get_by_text("Keep a copy of my table").click()
    tab.get_by_role("button", name="Load this sample").click()
    expect(tab.get_by_text("What we understood.")).to_be_visible()
    expect(tab).to_have_url(re.compile(r"project=[0-9a-f]{12}"))
    project = re.search(r"project=([0-9a-f]{12})", tab.url).group(1)
    tab.get_by_role("link", name="2 · Train").click()
    tab.get_by_test_id("stRadio").get_by_text("Gaussian copula").click()
    tab.get_by_role("button", name="Start training").click()
    expect(tab.get_by_text("trained in")).to_be_visible()
    expect(tab.get_by_test_id("stSidebar").get_by_text("Gaussian copula, trained")).to_be_visible()
    return project


def test_two_people_on_one_server_never_see_each_others_projects(browser, shared_server):
    url = shared_server.url
    ada = new_tab(browser)
    ada.goto(url)
    expect(ada.get_by_role("heading", name="Who is working?")).to_be_visible()
    shot(ada, "users_who_is_working")
    project = _ada_trains_a_model(ada, url)

    bob = new_tab(browser)
    _sign_in_fails_for_a_wrong_passphrase(bob, url)
    _create_space(bob, url, BOB)
    for step in STEPS:  # Bob's Recent projects are empty on every step: Ada's project is not among them
        bob.get_by_test_id("stSidebar").get_by_role("link", name=step).click()
        expect(bob.get_by_role("heading", level=1)).to_contain_text(step.split(" · ")[0])
        _no_trace_of(bob, project)
        expect(bob.get_by_text("Recent projects")).to_have_count(0)
    shot(bob, "users_bob_export_empty")

    bob.get_by_test_id("stSidebar").get_by_role("link", name="1 · Data").click()
    bob.get_by_role("tab", name="Try a sample").click()
    bob.get_by_test_id("stRadio").get_by_text("Consumer loans").click()
    bob.get_by_role("button", name="Load this sample").click()  # a project of Bob's own
    expect(bob.get_by_text("What we understood.")).to_be_visible()

    for path in ("", "train", "export"):  # a link to Ada's project, as a guess or a forwarded address
        bob.goto(f"{url}/{path}?project={project}")
        expect(bob.get_by_text("Sign in to reopen the project from your link.")).to_be_visible()
        _sign_in(bob, BOB)
        expect(bob.get_by_text(NOT_HERS)).to_be_visible()
        expect(bob).not_to_have_url(re.compile(project))
        _no_trace_of(bob, project)
        if not path:
            expect(bob.get_by_text("10,000 rows", exact=False)).to_be_visible()  # his own project is listed
            shot(bob, "users_bob_follows_adas_link")
    bob.context.close()

    _ada_still_has_her_project(ada, url, project)


def _sign_in_fails_for_a_wrong_passphrase(tab, url: str) -> None:
    tab.goto(url)
    _sign_in(tab, (ADA[0], "not ada's passphrase"))
    expect(tab.get_by_text("That name and passphrase do not match.")).to_be_visible()
    expect(tab.get_by_text("Gaussian copula")).to_have_count(0)
    shot(tab, "users_wrong_passphrase")


def _ada_still_has_her_project(tab, url: str, project: str) -> None:
    tab.reload()  # after a refresh she signs in again, and her link reopens her project
    _sign_in(tab, ADA)
    sidebar = tab.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Gaussian copula, trained")).to_be_visible()
    expect(sidebar.get_by_text("Telecom customers")).to_be_visible()
    expect(tab).to_have_url(re.compile(f"project={project}"))
    sidebar.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("heading", name="Who is working?")).to_be_visible()
    expect(tab).not_to_have_url(re.compile(project))
    _sign_in(tab, ADA)  # nothing open: her project waits in Recent projects
    expect(tab.locator(f".st-key-data_open_{project}")).to_be_visible()
    expect(tab.get_by_text("7,043 rows", exact=False)).to_be_visible()
    shot(tab, "users_ada_recent_projects")
    tab.context.close()
