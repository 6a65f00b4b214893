"""The Bayesian network's learned links as a picture and plain sentences, for the Train step and the report."""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict

import plotly.graph_objects as go

Edge = tuple[str, str, float]  # (parent column, child column, mutual information in nats)

# Mutual information in nats has no natural top, so it is read on Linfoot's 0-1 scale, sqrt(1 - exp(-2 I)):
# for two normally distributed numbers this is exactly the size of their correlation, so the bands below mean
# what a correlation of that size means: 0.7 (I >= 0.34 nats) is a strong link, e.g. a price and its tax;
# 0.4 (I >= 0.09) a clear one you would notice in a chart; 0.2 (I >= 0.02) a slight one; below that the link
# is faint, about what chance leaves between two binned columns of a few thousand rows.
BANDS = ((0.7, "strong"), (0.4, "clear"), (0.2, "weak"), (0.0, "faint"))
COLOURS = {"strong": "#1E3A8A", "clear": "#2563EB", "weak": "#93C5FD", "faint": "#D1D5DB"}
WIDE = 30  # on a table with more columns than this, faint and weak links are left out (drawn pale else): their
MAX_LINKS = 60  # long chains make the picture twice as tall; and at most this many arrows, the strongest
PER_ROW = 7  # columns side by side in one row of the picture, so labels keep their room
ROW_PX = 96  # height of one row of the picture, in pixels
LINE_CHARS = 15  # a column name is wrapped at about this many characters a line, three lines at most
HOW_TO_READ = ("Each arrow shows a column the generator uses to fill in another: it first picks the column at the "
               "arrow's start, then the one it points to, so rows keep the links seen in the real data. Thicker "
               "arrows are stronger links.")
STRENGTH_EXPLAINED = ("By the mutual information between the two columns: how much knowing one narrows down the "
                      "other, on a 0 to 1 scale that reads like a correlation. From 0.7 a link is strong, from 0.4 "
                      "clear, from 0.2 slight, and below that faint. Hover over the middle of an arrow for its "
                      "number.")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!$<>|~:])")


def link_strength(nats: float) -> float:
    """Mutual information on a 0-1 scale (Linfoot's informational correlation)."""
    return math.sqrt(1.0 - math.exp(-2.0 * max(nats, 0.0)))


def band(nats: float) -> str:
    """'strong', 'clear', 'weak' or 'faint'."""
    strength = link_strength(nats)
    return next(name for low, name in BANDS if strength >= low)


def shown_links(edges: list[Edge], columns: int) -> list[Edge]:
    """The links drawn, strongest first: all of them, or on a wide table the strongest clear or strong ones."""
    ordered = sorted(edges, key=lambda e: -e[2])
    if columns <= WIDE and len(ordered) <= MAX_LINKS:
        return ordered
    return [e for e in ordered if band(e[2]) in ("strong", "clear")][:MAX_LINKS]


def linked_columns(links: list[Edge], columns: list[str]) -> list[str]:
    """The columns at either end of a link, in the table's order."""
    ends = {name for parent, child, _ in links for name in (parent, child)}
    return [c for c in columns if c in ends]


def network_caption(edges: list[Edge], columns: list[str]) -> str:
    """How many links the picture shows of how many, and which columns are linked to nothing."""
    links = shown_links(edges, len(columns))
    if not edges:
        return "No links: every column is drawn on its own."
    text = (f"All {len(edges)} links are shown." if len(links) == len(edges) else
            f"The {len(links)} strongest of {len(edges)} links are shown; the {len(edges) - len(links)} "
            "weakest are left out to keep the picture readable.")
    text += " Thicker, darker arrows are stronger links; pale ones are faint."
    drawn, linked = linked_columns(links, columns), linked_columns(edges, columns)
    if faint := [c for c in linked if c not in drawn]:
        text += f" Only weakly linked, so not drawn: {', '.join(faint)}."
    if alone := [c for c in columns if c not in linked]:
        text += f" Not linked to any other column: {', '.join(alone)}."
    return text


# ----- sentences ------------------------------------------------------------------------------------------
HINTS = {"strong": "knowing {a} tells a lot about {b}", "clear": "knowing {a} gives a fair hint about {b}",
         "weak": "{a} says only a little about {b}", "faint": "{a} says next to nothing about {b}"}
SENTENCES = {"strong": "{A} and {B} go together strongly: ", "clear": "{A} and {B} are clearly linked: ",
             "weak": "{A} and {B} are slightly linked: "}


def _name(name: str, bold: bool, style: str) -> str:
    if style == "html":
        return f"<b>{html.escape(name)}</b>" if bold else html.escape(name)
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", name)
    return f"**{escaped}**" if bold else escaped


def link_sentences(edges: list[Edge], k: int = 8, style: str = "markdown") -> list[str]:
    """One plain sentence per link that is at least weak, strongest first, ``k`` at most.

    ``style`` is "markdown" (names in bold, special characters escaped) or "html".
    """
    out = []
    for parent, child, nats in sorted(edges, key=lambda e: -e[2]):
        if band(nats) == "faint" or len(out) == k:
            break
        sentence = SENTENCES[band(nats)] + HINTS[band(nats)] + "."
        out.append(sentence.format(A=_name(parent, True, style), B=_name(child, True, style),
                                   a=_name(parent, False, style), b=_name(child, False, style)))
    return out


# ----- layout ---------------------------------------------------------------------------------------------
def _topological(links: list[Edge], nodes: list[str]) -> list[str]:
    """The nodes with every parent before its children (ties in the table's order)."""
    parents = {n: {p for p, c, _ in links if c == n} for n in nodes}
    done: list[str] = []
    while len(done) < len(nodes):
        ready = [n for n in nodes if n not in done and parents[n] <= set(done)]
        done += ready or [n for n in nodes if n not in done][:1]  # a cycle cannot happen; never loop forever
    return done


def _rows(links: list[Edge], nodes: list[str]) -> dict[str, int]:
    """Each node's row: one below its lowest parent, pushed further down while that row is full."""
    row: dict[str, int] = {}
    count: dict[int, int] = defaultdict(int)
    for node in _topological(links, nodes):
        r = max((row[p] + 1 for p, c, _ in links if c == node and p in row), default=0)
        while count[r] >= PER_ROW:
            r += 1
        row[node], count[r] = r, count[r] + 1
    return row


def _order(links: list[Edge], row: dict[str, int], sweeps: int = 4) -> dict[str, float]:
    """Horizontal positions: each node near the mean of its parents (or children), sweeping down and up."""
    rows = [[n for n in row if row[n] == r] for r in range(max(row.values()) + 1)]
    x = {n: i - (len(members) - 1) / 2 for members in rows for i, n in enumerate(members)}
    for sweep in range(2 * sweeps + 1):  # down, up, ..., down: children end up under their parents
        down = sweep % 2 == 0
        for members in rows if down else rows[::-1]:
            near = {n: [x[p] for p, c, _ in links if c == n] if down else [x[c] for p, c, _ in links if p == n]
                    for n in members}
            wish = {n: sum(near[n]) / len(near[n]) if near[n] else x[n] for n in members}
            members.sort(key=lambda n: (wish[n], x[n]))
            x.update(zip(members, _place([wish[n] for n in members])))
    middle = (min(x.values()) + max(x.values())) / 2  # the sweeps may drift to one side: centre the picture
    return {n: v - middle for n, v in x.items()}


def _place(wishes: list[float]) -> list[float]:
    """Sorted wished positions pushed apart to a slot's width each, centred on the wishes, inside the picture."""
    low, high, xs = -(PER_ROW - 1) / 2, (PER_ROW - 1) / 2, list(wishes)
    for i in range(len(xs)):
        xs[i] = max(xs[i], low + i, xs[i - 1] + 1 if i else low)
    for i in reversed(range(len(xs))):
        xs[i] = min(xs[i], high - (len(xs) - 1 - i), xs[i + 1] - 1 if i + 1 < len(xs) else high)
    shift = min(max((sum(wishes) - sum(xs)) / len(xs), low - xs[0]), high - xs[-1])  # pushed-apart rows re-centred
    return [x + shift for x in xs]


def _wrap(name: str) -> list[str]:
    """The name cut after _ - or spaces into lines of about LINE_CHARS characters (three lines, then "…")."""
    lines: list[str] = []
    for piece in re.findall(r"[^_\- ]+[_\- ]*|[_\- ]+", name):
        while len(piece) > LINE_CHARS + 4:  # one long word: cut it
            lines, piece = lines + [piece[:LINE_CHARS]], piece[LINE_CHARS:]
        if lines and len(lines[-1]) + len(piece.rstrip()) <= LINE_CHARS:
            lines[-1] += piece
        else:
            lines.append(piece)
    lines = [line.rstrip(" ") for line in lines] or [""]
    return lines if len(lines) <= 3 else lines[:2] + [lines[2][:LINE_CHARS - 1] + "…"]


# ----- figure ---------------------------------------------------------------------------------------------
def network_figure(edges: list[Edge], columns: list[str]) -> go.Figure:
    """Column names in rows by depth, an arrow from each parent to its child, the stronger the thicker."""
    links = shown_links(edges, len(columns))
    nodes = linked_columns(links, columns)
    fig = go.Figure()
    if not links:
        return fig.update_layout(height=120, xaxis_visible=False, yaxis_visible=False, annotations=[dict(
            text="No links between the columns", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)])
    row = _rows(links, nodes)
    x = _order(links, row)
    pos = {n: (x[n], -float(row[n])) for n in nodes}
    lines = {n: _wrap(n) for n in nodes}
    half = {n: (16 * len(lines[n]) + 10) / 2 / ROW_PX for n in nodes}  # half a label's height, in rows
    for parent, child, nats in reversed(links):  # weakest first, so the strongest are drawn on top
        fig.add_annotation(_arrow((pos[parent][0], pos[parent][1] - half[parent]),
                                  (pos[child][0], pos[child][1] + half[child]), nats))
    for n in nodes:
        fig.add_annotation(_label(n, pos[n], lines[n], links))
    fig.add_trace(_link_hovers(links, pos))
    rows = max(row.values()) + 1
    fig.update_layout(height=rows * ROW_PX + 20, margin=dict(l=4, r=4, t=10, b=10), showlegend=False,
                      plot_bgcolor="white", paper_bgcolor="white", hoverlabel=dict(align="left"))
    half_width = max(max(abs(v) for v in x.values()) + 0.5, 2.0)  # a narrow network spreads over the width
    fig.update_xaxes(visible=False, range=[-half_width, half_width], fixedrange=True)
    return fig.update_yaxes(visible=False, range=[-rows + 0.5, 0.5], fixedrange=True)


def _width(nats: float) -> float:
    """Line width in pixels: 1 for no link up to 7 for a perfect one, growing with the strength."""
    return 1.0 + 6.0 * link_strength(nats)


def _arrow(tail: tuple[float, float], head: tuple[float, float], nats: float) -> go.layout.Annotation:
    width = _width(nats)
    return go.layout.Annotation(
        name="link", x=head[0], y=head[1], ax=tail[0], ay=tail[1], xref="x", yref="y", axref="x", ayref="y",
        text="", showarrow=True, arrowhead=2, arrowwidth=width, arrowsize=max(0.5, 1.3 - 0.11 * width),
        arrowcolor=COLOURS[band(nats)])


def _label(name: str, at: tuple[float, float], lines: list[str], links: list[Edge]) -> go.layout.Annotation:
    parents = [p for p, c, _ in links if c == name]
    told = f"drawn from {', '.join(parents)}" if parents else "drawn first, from no other column"
    return go.layout.Annotation(
        name="column", x=at[0], y=at[1], xref="x", yref="y", showarrow=False,
        text="<br>".join(html.escape(line) for line in lines), font=dict(size=12, color="#111827"),
        bgcolor="#F1F5F9", bordercolor="#64748B", borderwidth=1, borderpad=4,
        hovertext=f"<b>{html.escape(name)}</b><br>{html.escape(told)}")


def _link_hovers(links: list[Edge], pos: dict[str, tuple[float, float]]) -> go.Scatter:
    """Invisible points in the middle of each arrow that explain the link on hover."""
    texts = [f"<b>{html.escape(p)} → {html.escape(c)}</b><br>{band(s)} link: "
             f"{HINTS[band(s)].format(a=html.escape(p), b=html.escape(c))}<br>"
             f"strength {min(link_strength(s), 0.99):.2f} on a 0-1 scale (mutual information {s:.2f} nats)"
             for p, c, s in links]
    return go.Scatter(x=[(pos[p][0] + pos[c][0]) / 2 for p, c, _ in links],
                      y=[(pos[p][1] + pos[c][1]) / 2 for p, c, _ in links], mode="markers", text=texts,
                      hovertemplate="%{text}<extra></extra>", marker=dict(size=14, color="rgba(0,0,0,0)"))
