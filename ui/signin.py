"""Who is working? The sign-in screen of a shared server, who is signed in, and signing out."""

from __future__ import annotations

import ipaddress
import os
import re
import sqlite3

import streamlit as st

from ui import state
from workspace.users import SignInError, Users

PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")  # a proxy on this machine hides remote browsers


def is_loopback(address: str) -> bool:
    """Whether an address is this machine's: 127.x, ::1, or 127.x written as IPv6 (a server listening on
    every interface, as ``make run`` does, sees local browsers as ::ffff:127.0.0.1)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def shared() -> bool:
    """Whether people must sign in: the server is marked shared (``SDS_SHARED=1``) or the browser is on
    another machine. A browser on this machine with no proxy in between goes straight to the local space."""
    if os.environ.get("SDS_SHARED") == "1":
        return True
    address = st.context.ip_address  # None for this machine; a stand-in object under AppTest
    if isinstance(address, str) and not is_loopback(address):
        return True
    headers = st.context.headers
    return any(isinstance(headers.get(name), str) for name in PROXY_HEADERS)


def kept_where() -> str:
    """Where a kept table lives, in words for the person at this browser."""
    current = state.space()
    return "this computer" if current is None or current.local else "this server, in your own space"


def privacy_note() -> str:
    """Where a loaded table goes, in one sentence."""
    if kept_where() == "this computer":
        return "Nothing leaves this computer."
    return "It stays on this server, and only you can see it."


def gate(steps: list) -> list:
    """The app's pages, at their own addresses, each showing only the sign-in screen."""
    return [st.Page(sign_in_screen, title=step.title, icon=step.icon, url_path=step.url_path,
                    default=not step.url_path) for step in steps]


def sign_in_screen() -> None:
    """Sign in to a space or create one; on success the app reruns in that space."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Who is working?")
        st.write("Several people use this Synthetic Data Studio. Each works in their own space: the tables, "
                 "models and exports in yours are seen by no one else.")
        if st.query_params.get("project"):
            st.info("Sign in to reopen the project from your link.", icon=":material/link:")
        sign_in, create = st.tabs([":material/login: Sign in", ":material/person_add: Create my space"])
        with sign_in:
            _sign_in_form()
        with create:
            _create_form()


def _sign_in_form() -> None:
    with st.form("signin_form", border=False):
        name = st.text_input("Your name", key="signin_name")
        passphrase = st.text_input("Passphrase", type="password", key="signin_passphrase")
        if st.form_submit_button("Sign in", type="primary", icon=":material/login:"):
            _enter(lambda people: people.sign_in(name, passphrase))


def _create_form() -> None:
    with st.form("signup_form", border=False):
        name = st.text_input("Your name", key="signup_name", help="What you type to sign in next time; capitals "
                             "do not matter.")
        passphrase = st.text_input("Choose a passphrase (at least 8 characters)", type="password",
                                   key="signup_passphrase", help="A few words you will remember, like a short "
                                   "sentence. It cannot be recovered if forgotten.")
        again = st.text_input("Type it again", type="password", key="signup_again")
        if st.form_submit_button("Create my space", type="primary", icon=":material/person_add:"):
            if passphrase != again:
                st.error("The two passphrases differ. Type the same passphrase twice.", icon=":material/error:")
                return
            _enter(lambda people: people.create(name, passphrase))


def _enter(action) -> None:
    """Sign in with ``action(users)``, or say in plain words why not."""
    try:
        person = action(Users())
    except SignInError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    except (OSError, sqlite3.Error) as exc:
        st.error(f"The list of spaces on this server cannot be read right now ({exc}). Please try again in a "
                 "moment, or tell the person who runs the app.", icon=":material/error:")
        return
    state.sign_in(person)
    st.rerun()


def sidebar_user() -> None:
    """On a shared server: whose space this is, and a way out of it."""
    current = state.space()
    if current is None or current.local:
        return
    with st.sidebar:
        st.markdown(f":material/account_circle: Signed in as **{_plain(current.name)}**")
        st.caption("This is your own space: only you see its projects.")
        st.button("Sign out", key="signin_out", icon=":material/logout:", on_click=_sign_out)
        st.divider()


def _plain(text: str) -> str:
    """A name as typed, shown as text even where it has characters markdown would act on."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:$])", r"\\\1", text)


def _sign_out() -> None:
    state.sign_out()
    if "project" in st.query_params:
        del st.query_params["project"]  # the next person at this browser starts from nothing
