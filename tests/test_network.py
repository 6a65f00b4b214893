"""The Bayesian network's picture (an arrow per link shown, thicker when stronger, labels apart), its sentences,
its section in the HTML report, and its place on the Train step."""

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evaluation.network import (
    PER_ROW,
    band,
    link_sentences,
    link_strength,
    network_caption,
    network_figure,
    shown_links,
)
from evaluation.report import html_report
from evaluation.scorecard import EvaluationSettings, evaluate
from models import registry
from models.jobs import split_rows
from tabular.dataset import load_dataset
from tests.test_learning import dependent_csv

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def nats(strength: float) -> float:
    """The mutual information whose 0-1 strength is ``strength``."""
    return -0.5 * math.log(1 - strength ** 2)


def _parts(fig):
    arrows = [a for a in fig.layout.annotations if a.name == "link"]
    labels = [a for a in fig.layout.annotations if a.name == "column"]
    return arrows, labels


def _tree(columns: int, seed: int = 0) -> tuple[list[tuple[str, str, float]], list[str]]:
    """A random network like the generator's: each column with up to two parents among the earlier ones."""
    import random

    rng = random.Random(seed)
    names = [f"column_number_{i}_with_a_long_name" if i % 3 == 0 else f"c{i}" for i in range(columns)]
    edges = []
    for i in range(1, columns):
        for p in rng.sample(range(i), min(i, rng.choice([0, 1, 1, 2]))):
            edges.append((names[p], names[i], rng.uniform(0.005, 2.5)))
    return edges, names


EDGES = [("plan", "spend", nats(0.9)), ("age", "income", nats(0.5)), ("income", "plan", nats(0.75)),
         ("plan", "churn", nats(0.3)), ("age", "churn", nats(0.1))]
COLUMNS = ["age", "income", "plan", "spend", "churn", "region"]


def test_one_arrow_per_link_from_parent_to_child_thicker_when_stronger():
    fig = network_figure(EDGES, COLUMNS)
    arrows, labels = _parts(fig)
    assert len(arrows) == len(EDGES)  # a small table: every link, the faint one too
    at = {a.text.replace("<br>", ""): (a.x, a.y) for a in labels}
    for (parent, child, _), arrow in zip(sorted(EDGES, key=lambda e: e[2]), arrows):  # drawn weakest first
        assert arrow.ax == at[parent][0] and arrow.x == at[child][0]
        assert arrow.ay < at[parent][1] and arrow.y > at[child][1] and arrow.y < arrow.ay  # parent above child
    widths = [a.arrowwidth for a in arrows]
    assert widths == sorted(widths) and widths[0] < widths[-1] - 3
    assert arrows[0].arrowcolor != arrows[-1].arrowcolor  # the faint one is paler than the strong one


def test_every_linked_column_labelled_once_and_alone_columns_said():
    arrows, labels = _parts(network_figure(EDGES, COLUMNS))
    assert sorted(a.text for a in labels) == sorted(c for c in COLUMNS if c != "region")
    assert all(a.hovertext and "drawn" in a.hovertext for a in labels)
    caption = network_caption(EDGES, COLUMNS)
    assert "All 5 links" in caption and "Not linked to any other column: region." in caption


@pytest.mark.parametrize("columns, seed", [(10, 0), (25, 1), (55, 2), (55, 3)])
def test_labels_never_share_a_place_and_rows_keep_their_room(columns, seed):
    edges, names = _tree(columns, seed)
    fig = network_figure(edges, names)
    arrows, labels = _parts(fig)
    assert len(arrows) == len(shown_links(edges, len(names)))
    spots = [(a.x, a.y) for a in labels]
    assert len(set(spots)) == len(spots) == len({a.text for a in labels})
    for row in {y for _, y in spots}:
        xs = sorted(x for x, y in spots if y == row)
        assert len(xs) <= PER_ROW and all(b - a >= 1 - 1e-9 for a, b in zip(xs, xs[1:]))  # a slot each
        assert xs[0] >= fig.layout.xaxis.range[0] + 0.5 - 1e-9 and xs[-1] <= fig.layout.xaxis.range[1] - 0.5 + 1e-9
    assert all(max(len(line) for line in a.text.split("<br>")) <= 19 for a in labels)  # long names wrapped
    assert all(a.y < a.ay for a in arrows)  # every arrow points down: children below their parents


def test_a_wide_table_leaves_out_weak_links_and_says_how_many():
    edges, names = _tree(55, 2)
    shown = shown_links(edges, len(names))
    assert 0 < len(shown) < len(edges) and all(band(s) in ("strong", "clear") for _, _, s in shown)
    assert [s for *_, s in shown] == sorted((s for *_, s in edges if link_strength(s) >= 0.4), reverse=True)[:60]
    assert f"The {len(shown)} strongest of {len(edges)} links are shown" in network_caption(edges, names)
    narrow = _tree(12, 2)
    assert len(shown_links(*narrow[:1], len(narrow[1]))) == len(narrow[0])  # a narrow table shows them all


def test_sentences_strongest_first_in_words_that_follow_the_strength():
    sentences = link_sentences(EDGES)
    assert len(sentences) == 4  # the faint link (0.1) gets none
    assert sentences[0].startswith("**plan** and **spend** go together strongly")
    assert sentences[1].startswith("**income** and **plan** go together strongly")
    assert sentences[2].startswith("**age** and **income** are clearly linked")
    assert sentences[3] == "**plan** and **churn** are slightly linked: plan says only a little about churn."
    assert link_sentences(EDGES, k=2) == sentences[:2]
    assert not any("mutual information" in s or "nats" in s for s in sentences)


def test_sentences_escape_names():
    edges = [("monthly_*fee*", "a<b>", nats(0.8))]
    assert link_sentences(edges)[0].startswith(r"**monthly\_\*fee\*** and **a\<b\>**")
    assert link_sentences(edges, style="html")[0].startswith("<b>monthly_*fee*</b> and <b>a&lt;b&gt;</b>")


def test_no_links_a_plain_picture_and_words():
    arrows, labels = _parts(network_figure([], COLUMNS))
    assert not arrows and not labels
    assert link_sentences([]) == [] and network_caption([], COLUMNS).startswith("No links")


# ----- the report and the Train step ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    dataset = load_dataset(dependent_csv(), "dependent.csv")
    rows = split_rows(dataset, 0.2, seed=0)
    models = {name: registry.create(name, "fast").fit(rows.fit, dataset.schema, seed=0)
              for name in ("bayesnet", "copula")}
    return dataset, rows, models


def test_report_shows_the_network_of_a_bayesian_network_only(fitted):
    dataset, rows, models = fitted
    synthetic = models["copula"].sample(300, seed=0)
    settings = EvaluationSettings(quality_rows=300, detection_rows=200, privacy_rows=100, ml_rows=200)
    ev = evaluate(rows.fit, synthetic, dataset.schema, settings=settings)
    pages = {name: html_report(ev, rows.fit, synthetic, dataset.schema, links=getattr(m, "edges_", None))
             for name, m in models.items()}  # as the Evaluate step's download button passes them
    edges = models["bayesnet"].edges_
    assert edges and "How the columns go together" in pages["bayesnet"]
    strongest = max(edges, key=lambda e: e[2])
    assert f"<li><b>{strongest[0]}</b> and <b>{strongest[1]}</b>" in pages["bayesnet"]
    assert "How the columns go together" not in pages["copula"]
    assert pages["bayesnet"].count("Plotly.newPlot") == pages["copula"].count("Plotly.newPlot") + 1


@pytest.mark.parametrize("generator", ["bayesnet", "copula"])
def test_train_step_draws_the_network_of_a_finished_bayesian_network(generator):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.button(key="data_load_sample").click().run()
    at.switch_page("pages/train.py").run()
    at.radio(key="train_generator").set_value(generator).run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    assert job.finished.wait(120) and job.state == "done"
    at.run()
    assert not at.exception
    shown = any(h.value == "How the columns go together" for h in at.subheader)
    pictures = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-train_network")]
    assert shown == (generator == "bayesnet") and len(pictures) == shown
    if generator == "bayesnet":
        assert '"name":"link"' in pictures[0].proto.spec  # its arrows
        text = " ".join(m.value for m in at.markdown)
        assert "go together strongly" in text or "clearly linked" in text
        assert any("links are shown" in c.value for c in at.caption)
