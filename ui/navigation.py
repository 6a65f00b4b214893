"""The app's own navigation on every entry point, and a reconnect message that speaks to users."""

from __future__ import annotations

import streamlit as st

# Streamlit's own text when the server cannot be reached talks of "the internet" or a terminal command;
# this rewrites it in place (the page stays open, so the script can watch for the dialog).
_RECONNECT_SCRIPT = """
<script>
(() => {
  if (window.__sdsReconnect) return;
  window.__sdsReconnect = true;
  const title = "The app is not reachable right now";
  const text = "Synthetic Data Studio has stopped or is restarting. Your projects and trainings are saved " +
    "on this computer, and a training that was running can be resumed from its project. This page " +
    "reconnects by itself as soon as the app is running again; if it does not come back, ask the person " +
    "who runs it to start it again.";
  const rewrite = () => {
    for (const dialog of document.querySelectorAll('[role="dialog"]')) {
      if (!/Connection error/.test(dialog.innerText) || dialog.dataset.sdsRewritten) continue;
      dialog.dataset.sdsRewritten = "1";
      const heading = dialog.querySelector("h1, h2, h3, [slot=title]");
      if (heading) heading.textContent = title;
      const body = heading && heading.nextElementSibling;
      if (body) {
        for (const child of body.children) child.style.display = "none";  // hidden, not removed: React owns them
        const note = document.createElement("div");
        note.textContent = text;
        note.setAttribute("data-testid", "sds-reconnect-note");
        body.appendChild(note);
      }
    }
  };
  new MutationObserver(rewrite).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""


def reconnect_message() -> None:
    """Install the rewrite once per page load (it survives reruns)."""
    st.html(_RECONNECT_SCRIPT, unsafe_allow_javascript=True)


def through_entry() -> None:
    """Make a page opened by a deep link before anyone loaded ``/`` run inside app.py.

    Until app.py has called ``st.navigation`` once, Streamlit routes a URL such as ``/train`` with its old
    pages-folder scheme: it runs the page file alone and lists the raw file names as navigation. Switching
    that scheme off (as ``st.navigation`` itself does) and rerunning sends the same URL through app.py.
    Only a session app.py has never set up is rerouted (AppTest reruns single pages on purpose). A page
    run on its own that way still shows nothing but the sign-in screen until someone has signed in.
    """
    from streamlit.runtime.pages_manager import PagesManager

    from ui import signin, state

    if PagesManager.uses_pages_directory and not state.initialized():
        PagesManager.uses_pages_directory = False
        st.rerun()
    if state.space() is None:
        signin.sign_in_screen()
        st.stop()
