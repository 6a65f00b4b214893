"""The Train step's picture of how a Bayesian network ties the columns together."""

from __future__ import annotations

import streamlit as st

from evaluation.network import HOW_TO_READ, STRENGTH_EXPLAINED, link_sentences, network_caption, network_figure


def network_panel(model) -> None:
    """The learned links of a Bayesian network (a picture and a sentence per strong link); nothing for others."""
    edges = getattr(model, "edges_", None)
    if edges is None:
        return
    st.subheader("How the columns go together")
    columns = list(model.encoder_.columns)
    if not edges:
        st.info("The network found no links: every column is drawn on its own, as if the columns had nothing "
                "to do with each other. That can be right for unrelated columns; with few rows it can also "
                "mean there was too little to learn from.", icon=":material/hub:")
        return
    st.caption(HOW_TO_READ)
    st.plotly_chart(network_figure(edges, columns), key="train_network", config={"displaylogo": False})
    st.caption(network_caption(edges, columns))
    sentences = link_sentences(edges)
    if sentences:
        st.markdown("\n".join(f"- {s}" for s in sentences))
    with st.expander("How is the strength of a link measured?", icon=":material/help:"):
        st.markdown(STRENGTH_EXPLAINED)
