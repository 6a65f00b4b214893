"""AppTest checks of a shared server: the sign-in screen first, one space per person, no way into another's."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tabular.dataset import load_dataset
from tests.conftest import mixed_csv
from workspace.users import Users, space_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSPHRASE = "a long enough passphrase"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A shared server with its own workspace, and Ada's project in it."""
    monkeypatch.setenv("SDS_SHARED", "1")
    monkeypatch.setenv("SDS_WORKSPACE", str(tmp_path))
    ada = Users(tmp_path).create("Ada", PASSPHRASE)
    project = space_workspace(ada, tmp_path).create_project(load_dataset(mixed_csv(60), "adas_table.csv"),
                                                            keep_data=True)
    return project


def _create_space(at: AppTest, name: str, passphrase: str = PASSPHRASE, again: str | None = None) -> AppTest:
    at.text_input(key="signup_name").set_value(name)
    at.text_input(key="signup_passphrase").set_value(passphrase)
    at.text_input(key="signup_again").set_value(passphrase if again is None else again)
    return at.button(key="FormSubmitter:signup_form-Create my space").click().run()


def _sign_in(at: AppTest, name: str, passphrase: str) -> AppTest:
    at.text_input(key="signin_name").set_value(name)
    at.text_input(key="signin_passphrase").set_value(passphrase)
    return at.button(key="FormSubmitter:signin_form-Sign in").click().run()


def _texts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error]
                    if isinstance(e.value, str))


@pytest.mark.parametrize("script", [APP, *(str(Path(APP).parent / "pages" / f"{page}.py")
                                            for page in ("data", "train", "evaluate", "export"))])
def test_nothing_but_the_sign_in_screen_before_signing_in(server, script):
    at = AppTest.from_file(script, default_timeout=60).run()  # a page run on its own is held back too
    assert not at.exception
    assert [t.value for t in at.title] == ["Who is working?"]
    assert "adas_table" not in _texts(at) and "Recent projects" not in _texts(at)
    assert "user" not in at.session_state or at.session_state["user"] is None


def test_a_new_space_is_empty_and_says_who_is_signed_in(server):
    at = _create_space(AppTest.from_file(APP, default_timeout=60).run(), "  Bob ")
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["1 · Your data"]
    assert "Recent projects" not in _texts(at) and "adas_table" not in _texts(at)
    assert any("**Bob**" in m.value for m in at.sidebar.markdown)
    assert at.button(key="signin_out").label == "Sign out"
    assert "only you can see it" in _texts(at)


def test_wrong_passphrase_and_mismatch_get_plain_words(server):
    at = _sign_in(AppTest.from_file(APP, default_timeout=60).run(), "ada", "not the passphrase")
    assert not at.exception and any("do not match" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["Who is working?"]
    at = _create_space(at, "Carol", again="something else")
    assert any("two passphrases differ" in e.value for e in at.error)
    at = _create_space(at, "Carol", passphrase="short")
    assert any("at least 8 characters" in e.value for e in at.error)


def test_own_project_reopens_from_the_address_bar_after_signing_in(server):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["project"] = server
    at.run()
    assert any("Sign in to reopen the project" in i.value for i in at.info)
    at = _sign_in(at, "ADA", PASSPHRASE)
    assert not at.exception
    assert at.session_state["project"] == server and at.session_state["dataset"].name == "adas_table"


def test_someone_elses_project_in_the_address_bar_opens_nothing(server):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["project"] = server  # Bob follows (or guesses) a link to Ada's project
    at = _create_space(at.run(), "Bob")
    assert not at.exception
    assert at.session_state["project"] is None and at.session_state["dataset"] is None
    assert "does not exist or belongs to someone else" in _texts(at)
    assert "adas_table" not in _texts(at) and "project" not in at.query_params


def test_sign_out_forgets_the_session(server):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["project"] = server
    at = _sign_in(at.run(), "Ada", PASSPHRASE)
    assert at.session_state["project"] == server
    at.button(key="signin_out").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Who is working?"]
    assert at.session_state["project"] is None and at.session_state["dataset"] is None
    assert "project" not in at.query_params


@pytest.mark.parametrize("address, headers, title", [
    (None, {}, "1 · Your data"),
    ("127.0.0.1", {}, "1 · Your data"),
    ("::1", {}, "1 · Your data"),
    ("10.1.2.3", {}, "Who is working?"),  # a browser on another machine
    (None, {"X-Forwarded-For": "10.1.2.3"}, "Who is working?"),  # one behind a proxy on this machine
])
def test_only_a_browser_on_this_computer_goes_straight_to_the_local_space(tmp_path, monkeypatch, address, headers,
                                                                           title):
    import streamlit as st

    monkeypatch.setenv("SDS_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("SDS_SHARED", raising=False)
    monkeypatch.setattr(type(st.context), "ip_address", property(lambda _: address))
    monkeypatch.setattr(type(st.context), "headers", property(lambda _: headers))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.value for t in at.title] == [title]
    assert not at.sidebar.button  # no sign-out where nobody signed in


@pytest.mark.parametrize("address, local", [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
                                            ("192.168.1.4", False), ("::ffff:10.0.0.2", False), ("junk", False)])
def test_only_this_machine_counts_as_local(address, local):
    """``make run`` listens on every interface, so a local browser arrives as ::ffff:127.0.0.1."""
    from ui.signin import is_loopback

    assert is_loopback(address) is local
