"""Privacy on screen: what the protections do to this table, the switch, the differential-privacy option."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import registry
from tabular.privacy import (
    DEFAULT_CLIP_SHARE,
    DEFAULT_MIN_COUNT,
    EPSILON_CHOICES,
    PrivacySettings,
    strength,
)
from tabular.protection import effects
from ui import state

PROTECTIONS = (
    f"Categories seen in fewer than {DEFAULT_MIN_COUNT} rows become \"Other\", so a one-off value cannot "
    "point to one person.",
    f"The most extreme {DEFAULT_CLIP_SHARE:.1%} of values at each end of a number column are pulled in, so a "
    "single very rich or very old person does not stand out.",
    f"The saved model keeps only averages of {DEFAULT_MIN_COUNT} or more values, never an exact real value.",
    "Synthetic rows that happen to equal a real row are replaced before you download them.",
)
PRIVATE_PICK = registry.PRIVATE_PICK
RISK = ("Turn them off only when rare values matter more than privacy, for example a table with no personal "
        "information. With them off, a value seen once can appear in the synthetic rows and in the model file.")


def _effects(dataset) -> list[dict]:
    """What the protections change in this table, worked out once per table and settings (not every rerun)."""
    key = (id(dataset), dataset.schema.to_json())
    memo = state.get(state.PRIVACY_EFFECTS)
    if memo is None or memo[0] != key:
        memo = (key, effects(dataset.typed(), dataset.schema, PrivacySettings()))
        state.put(state.PRIVACY_EFFECTS, memo)
    return memo[1]


def data_step_summary(dataset) -> None:
    """On the Data step: the protections and what they will change in this table."""
    found = _effects(dataset)
    title = "Privacy protections are on" + (f": {len(found)} columns affected" if found else "")
    with st.expander(title, icon=":material/shield:"):
        st.markdown("\n".join(f"- {line}" for line in PROTECTIONS))
        if found:
            st.dataframe(pd.DataFrame(found), hide_index=True, key="data_privacy_effects")
        else:
            st.caption("Nothing in this table is rare or extreme enough to change.")
        st.caption("You can turn them off, or add differential privacy, on the Train step.")


def _differential_privacy(generator: str) -> float | None:
    """The differential-privacy choice; returns the epsilon, or None when off."""
    supported = registry.generator_class(generator).supports_dp
    on = st.toggle("Differential privacy (a formal guarantee)", key="train_dp", disabled=not supported,
                   help="Adds carefully measured noise while learning, so the result hardly depends on any "
                        "one person. The smaller the budget (epsilon), the stronger the guarantee and the "
                        "blurrier the detail.")
    if not supported:
        able = [registry.card(n).title for n in registry.names() if registry.generator_class(n).supports_dp]
        st.caption(f"{registry.card(generator).title} cannot train with differential privacy"
                   + (f"; these can: {', '.join(able)}." if able else "."))
        return None
    if not on:
        return None
    epsilon = st.segmented_control("Privacy budget (epsilon)", EPSILON_CHOICES, default=3.0, required=True,
                                   key="train_epsilon",
                                   format_func=lambda e: f"{strength(e).word.capitalize()} ({e:g})")
    st.info(f"**{strength(epsilon).word.capitalize()} privacy (epsilon {epsilon:g}).** {strength(epsilon).meaning} "
            "A tenth of the budget describes the columns (ranges and categories); the rest trains the model.",
            icon=":material/verified_user:")
    if generator != PRIVATE_PICK:
        st.caption(f"Under differential privacy the {registry.card(PRIVATE_PICK).title} usually keeps the most "
                   "detail, in seconds: on our telecom benchmark at epsilon 3 it scored 0.92 for quality, the "
                   "VAE 0.73 and the GAN 0.68 (see README, Privacy).")
    return float(epsilon)


def train_step_choice(generator: str) -> dict:
    """On the Train step: protections (with the switch and its reason) and differential privacy."""
    with st.container(border=True):
        st.markdown("**:material/shield: Privacy**")
        protect = not st.toggle("Turn privacy protections off", key="train_protections_off",
                                help="Protections are on unless you turn them off here.")
        if protect:
            st.caption("Protections are on: " + " ".join(PROTECTIONS))
        else:
            st.warning(f"**Protections are off.** {RISK}", icon=":material/warning:")
        epsilon = _differential_privacy(generator)
    return PrivacySettings(protect=protect, epsilon=epsilon).to_dict()
