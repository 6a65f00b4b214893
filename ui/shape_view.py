"""The Export step's "Shape the output": fixed values, a rebalanced column, extra rare rows, augmentation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from evaluation.conditional import ConditionalCheck
from evaluation.plots import REAL, SYNTHETIC, column_figure
from models.conditional import pickable
from models.shaping import AUGMENT_WARNING, OutputPlan, flag_name
from tabular.conditions import Condition, ConditionError, Conditions, normalised_mix, typed_value
from tabular.encoding import ContinuousCodec
from tabular.schema import Kind

MODES = {
    "like": "Like the real table",
    "only": "Only rows of a certain kind",
    "rebalance": "Rebalanced: choose the mix of a column",
    "add": "Like the real table, plus extra rows of a rare case",
    "augment": "My real table plus synthetic rows of a rare case",
}
MAX_EXTRA_ROWS = 1_000_000  # the most rows "Rows to add" takes (a suggestion above it starts there)
MODE_HELP = {
    "only": "Every row meets the conditions, e.g. churn is Yes, or amount above 10,000. The other columns follow "
            "what the generator learned about such rows.",
    "rebalance": "Set the share of each value of one column, e.g. 50% churn and 50% no churn, for a model that "
                 "needs more of a rare class.",
    "add": "The usual synthetic rows, then a number of extra rows of the case you choose, e.g. 500 fraud cases.",
    "augment": "Your real rows, then synthetic rows of a rare case, to give a model more examples of it.",
}
MAX_CONDITIONS = 4
MAX_MIX_VALUES = 12  # values shown in the mix editor; a column with more keeps only these


def output_plan(model, rows: int, real: pd.DataFrame | None) -> OutputPlan | None:
    """The "Shape the output" section; the plan to make (None while the request is not complete)."""
    st.markdown("#### Shape the output")
    choices = list(MODES) if real is not None else [m for m in MODES if m != "augment"]
    mode = st.radio("What should the rows look like?", choices, format_func=MODES.get, key="export_mode",
                    help="Shaping is optional: by default the rows are like the real table.")
    if mode == "like":
        return OutputPlan(rows)
    st.caption(MODE_HELP[mode])
    if mode == "only":
        where = conditions_editor(model, "export_only")
        return OutputPlan(rows, Conditions(where)) if where else None
    if mode == "rebalance":
        mix = mix_editor(model)
        return OutputPlan(rows, Conditions((), mix)) if mix else None
    where = conditions_editor(model, f"export_{mode}")
    suggested = _suggested_extra(where, real) if mode == "augment" else 500
    case = f"_{abs(hash(where)) % 10**8}" if mode == "augment" else ""  # a new case, a new suggestion
    extra = st.number_input("Rows to add", 1, MAX_EXTRA_ROWS, min(suggested, MAX_EXTRA_ROWS), step=100,
                            key=f"export_{mode}_rows{case}",
                            help="For augmentation the suggestion is the number that evens the case out with "
                                 "the most common value of its column.")
    if mode == "augment":
        st.warning(AUGMENT_WARNING + f" A column '{flag_name(model.schema_)}' says which rows are synthetic.",
                   icon=":material/warning:")
    return OutputPlan(rows, Conditions(), int(extra), Conditions(where), augment=mode == "augment") if where else None


# ----- conditions ---------------------------------------------------------------------------------------------
def conditions_editor(model, key: str) -> tuple[Condition, ...]:
    """Rows of column / rule / value widgets; the conditions they say (only complete ones)."""
    count = st.session_state.setdefault(f"{key}_count", 1)
    settable = settable_columns(model)
    out = []
    for i in range(count):
        c1, c2, c3 = st.columns([2, 1, 3])
        name = c1.selectbox("Column", settable, key=f"{key}_col_{i}", label_visibility="visible" if i == 0 else
                            "collapsed")
        out += _rule(model, name, c2, c3, f"{key}_{i}", first=i == 0)
    b1, b2, _ = st.columns([1, 1, 3])
    if count < MAX_CONDITIONS:
        b1.button("Add a condition", key=f"{key}_more", icon=":material/add:",
                  on_click=st.session_state.__setitem__, args=(f"{key}_count", count + 1))
    if count > 1:
        b2.button("Remove the last", key=f"{key}_less", icon=":material/remove:",
                  on_click=st.session_state.__setitem__, args=(f"{key}_count", count - 1))
    return tuple(out)


def settable_columns(model) -> list[str]:
    """Columns a request can name: the ones the model learned; yes/no first, then categories with the fewest
    values (the likely targets: churn, fraud, segment), then numbers and dates, each in file order."""
    codecs = model.encoder_.codecs_
    learned = [c for c in model.schema_.columns if c.name in codecs and (
        isinstance(codecs[c.name], ContinuousCodec) or pickable(codecs[c.name], rare=True))]  # not all pooled away

    def rank(spec) -> tuple[int, int]:
        codec = codecs[spec.name]
        if spec.kind is Kind.YES_NO:
            return 0, 0
        return (1, len(codec.slots)) if not isinstance(codec, ContinuousCodec) else (2, 0)
    return [c.name for c in sorted(learned, key=rank)]


def _rule(model, name: str, left, right, key: str, first: bool) -> list[Condition]:
    codec = model.encoder_.codecs_[name]
    spec = model.schema_.column(name)
    shown = "visible" if first else "collapsed"
    if not isinstance(codec, ContinuousCodec):
        left.selectbox("Rule", ["is"], key=f"{key}_op_cat", label_visibility=shown, disabled=True)
        values = pickable(codec, rare=True)
        label = {v: _label(spec, v) for v in values}
        rarest = max(len([v for v in values if v not in codec.rare]) - 1, 0)  # the case people usually want more of
        value = right.selectbox("Value", values, index=rarest, format_func=label.get, key=f"{key}_val_{name}",
                                label_visibility=shown)
        return [Condition(name, "=", typed_value(spec, value))]
    op = left.selectbox("Rule", ["between", "at least", "at most", "exactly"], key=f"{key}_op_{name}",
                        label_visibility=shown)
    low, high = codec.from_uniform(np.array([0.0, 1.0])).tolist()
    if spec.kind is Kind.DATETIME:
        return _date_rule(name, op, pd.Timestamp(low), pd.Timestamp(high), right, f"{key}_{name}", shown)
    return _number_rule(name, op, float(low), float(high), spec, right, f"{key}_{name}", shown)


def _number_rule(name, op, low, high, spec, box, key, shown) -> list[Condition]:
    step = 1.0 if spec.kind is Kind.WHOLE_NUMBER else None
    if high <= low:  # one value left after protections or rounding: nothing to choose
        box.caption(f"{name} takes one value here: {low:g}.")
        return [Condition(name, "=", float(low))]
    if op == "between":
        lo, hi = box.slider("Values", low, high, (low, high), step=step, key=f"{key}_range", label_visibility=shown)
        return [Condition(name, ">=", float(lo)), Condition(name, "<=", float(hi))]
    start = {"at least": (low + high) / 2, "at most": (low + high) / 2, "exactly": low}[op]
    value = box.number_input("Value", low, high, float(round(start)) if step else start, step=step,
                             key=f"{key}_{op}", label_visibility=shown)
    return [Condition(name, {"at least": ">=", "at most": "<=", "exactly": "="}[op], float(value))]


def _date_rule(name, op, low, high, box, key, shown) -> list[Condition]:
    if op == "between":
        picked = box.date_input("Dates", (low.date(), high.date()), low.date(), high.date(), key=f"{key}_range",
                                label_visibility=shown)
        if len(picked) != 2:
            return []
        return [Condition(name, ">=", pd.Timestamp(picked[0])),
                Condition(name, "<", pd.Timestamp(picked[1]) + pd.Timedelta(days=1))]
    day = box.date_input("Date", middle_day(low, high), low.date(), high.date(), key=f"{key}_{op}",
                         label_visibility=shown)
    day = pd.Timestamp(day)
    if op == "exactly":
        return [Condition(name, ">=", day), Condition(name, "<", day + pd.Timedelta(days=1))]
    return [Condition(name, ">=", day)] if op == "at least" else [Condition(name, "<", day + pd.Timedelta(days=1))]


def middle_day(low: pd.Timestamp, high: pd.Timestamp):
    """The day halfway between two dates (a date plus a Timedelta with hours in it stays that date in pandas)."""
    return (low + (high - low) / 2).date()


def _label(spec, value: str) -> str:
    if spec.kind is Kind.YES_NO:
        yes = value == "True"
        return (spec.format.true_label if yes else spec.format.false_label) or ("Yes" if yes else "No")
    return value


def _suggested_extra(where, real: pd.DataFrame | None) -> int:
    """Rows that even a fixed category out with its column's most common value (500 when that means nothing)."""
    fixed = [c for c in where if c.fixed]
    if real is None or len(fixed) != 1:
        return 500
    column = fixed[0].column
    counts = real[column].dropna().astype(object).map(str).value_counts()
    have = int(Conditions((fixed[0],)).met(real).sum())
    return max(int(counts.iloc[0]) - have, 100) if len(counts) else 500


# ----- mix ------------------------------------------------------------------------------------------------------
def mix_editor(model):
    """A column and one share per value (starting from the real shares), with a chart of real against asked."""
    columns = [c for c in settable_columns(model) if not isinstance(model.encoder_.codecs_[c], ContinuousCodec)
               and pickable(model.encoder_.codecs_[c])]
    if not columns:
        st.info("This table has no column of categories to rebalance.", icon=":material/info:")
        return None
    name = st.selectbox("Column to rebalance", columns, key="export_mix_column")
    codec, spec = model.encoder_.codecs_[name], model.schema_.column(name)
    values = pickable(codec)[:MAX_MIX_VALUES]
    real_share = dict(zip(codec.values, codec.probs))
    keys = [f"export_mix_{name}_{i}" for i in range(len(values))]
    st.button("Equal shares", key=f"export_mix_{name}_equal", icon=":material/balance:",
              on_click=_set_all, args=(keys, round(100 / len(values))))
    cells = st.columns(min(len(values), 4))
    asked = []
    for i, value in enumerate(values):
        st.session_state.setdefault(keys[i], int(round(100 * real_share.get(value, 0))))  # starts at the real share
        asked.append(cells[i % len(cells)].number_input(f"{_label(spec, value)} (%)", 0, 100, step=5, key=keys[i]))
    if len(codec.values) > len(values):
        st.caption(f"Only the {MAX_MIX_VALUES} most common values are listed; others are left out of the mix.")
    if sum(asked) <= 0:
        st.warning("Give at least one value a share above 0%.", icon=":material/warning:")
        return None
    total = sum(asked)
    st.plotly_chart(mix_figure([_label(spec, v) for v in values], [real_share.get(v, 0) for v in values],
                               [a / total for a in asked]), key="export_mix_chart")
    if total != 100:
        st.caption(f"The shares add up to {total}%, so they are scaled to 100%.")
    try:
        return normalised_mix(name, [(typed_value(spec, v), float(a)) for v, a in zip(values, asked)])
    except ConditionError as exc:
        st.warning(str(exc), icon=":material/warning:")
        return None


def _set_all(keys: list[str], value: int) -> None:
    for key in keys:
        st.session_state[key] = value


def mix_figure(labels: list[str], real: list[float], asked: list[float]) -> go.Figure:
    """The real shares of a column's values beside the shares asked for."""
    fig = go.Figure([go.Bar(x=labels, y=real, name="Real table", marker_color=REAL),
                     go.Bar(x=labels, y=asked, name="Your mix", marker_color=SYNTHETIC)])
    fig.update_layout(barmode="group", height=280, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
    fig.update_yaxes(title="share of rows", tickformat=".0%")
    return fig


# ----- after generation -----------------------------------------------------------------------------------------
def before_after(result, plan: OutputPlan, real: pd.DataFrame | None, schema) -> None:
    """Charts of the shaped columns: the real table against the file made."""
    columns = list(dict.fromkeys(plan.conditions.columns + plan.extra.columns))[:4]
    if not columns or real is None:
        return
    st.markdown("**Before and after**")
    cells = st.columns(min(len(columns), 2))
    for i, name in enumerate(columns):
        spec = schema.column(name)
        before, after = real[name], result.frame[name]
        if spec.kind is Kind.YES_NO:  # the column's own words, not True and False
            before, after = (v.map(lambda x: None if pd.isna(x) else _label(spec, str(bool(x)))) for v in (before, after))
        fig = column_figure(before, after, spec.kind, name, labels=("Real table", "Your file"))
        cells[i % len(cells)].plotly_chart(fig, key=f"export_before_after_{name}")


def check_summary(checks: list[dict]) -> None:
    """One line per group: how well the other columns match real rows meeting the same condition."""
    for data in checks:
        check = ConditionalCheck.from_dict(data)
        where = "unseen real rows" if check.judged_on == "unseen" else "real rows (too few unseen ones meet it)"
        for group in check.groups:
            if group.shapes is None:
                st.caption(f"{group.words}: {group.unscored_because}")
                continue
            st.caption(f"{group.words}: the other columns match the {group.real_rows:,} {where} with it at "
                       f"**{group.shapes:.0%}** (column shapes)" +
                       (f" and {group.trends:.0%} (pair trends)." if group.trends is not None else "."))


def describe_plan(plan: OutputPlan) -> str:
    """The plan in a few words, for the Generate button's caption."""
    if plan.augment:
        return f"Your real rows plus {plan.extra_rows:,} synthetic rows with {plan.extra.words()}."
    parts = [f"{plan.rows:,} rows" + (f" with {plan.conditions.words()}" if plan.conditions else "")]
    if plan.extra_rows:
        parts.append(f"then {plan.extra_rows:,} rows with {plan.extra.words()}")
    return ", ".join(parts) + "."


def evaluate_section(checks: list[dict], whole_table_shapes: float | None) -> None:
    """The Evaluate step's view of shaped exports: each group against the real rows meeting its condition."""
    if not checks:
        st.caption("No shaped export yet. On the Export step, *Shape the output* makes rows of a certain kind or "
                   "a rebalanced table; each is then compared here with the real rows like it.")
        return
    st.caption("Each shaped export's rows, compared with the real rows that meet the same condition: the columns "
               "the condition fixes are left out (they match by construction)."
               + (f" For reference, the whole table's column shapes score {whole_table_shapes:.0%}."
                  if whole_table_shapes is not None else ""))
    for i, data in enumerate(checks[:5]):
        check = ConditionalCheck.from_dict(data)
        where = "unseen real rows" if check.judged_on == "unseen" else "all real rows (too few unseen ones meet it)"
        st.markdown(f"**{check.request}** · judged on {where}")
        rows = [{"Rows with": g.words, "Synthetic rows": g.synthetic_rows, "Real rows like them": g.real_rows,
                 "Column shapes": g.shapes, "Pair trends": g.trends,
                 "Matched least well": ", ".join(f"{w['column']} ({w['score']:.0%})" for w in g.worst)}
                for g in check.groups]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"eval_shaped_{i}", column_config={
            "Column shapes": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "Pair trends": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
