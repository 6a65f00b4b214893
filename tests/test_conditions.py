"""Conditional requests: reading them, checking rows, plain refusals, and meeting them (mix, shaping, checks)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from evaluation.conditional import GroupCheck, conditional_check
from models import conditional, registry
from models.shaping import FLAG_COLUMN, OutputPlan, make_output, shaped_parts
from tabular.conditions import (
    Condition,
    ConditionError,
    Conditions,
    Mix,
    check_request,
    parse_balance,
    parse_where,
)


@pytest.fixture(scope="module")
def copula(mixed):
    return registry.create("copula").fit(mixed.typed(), mixed.schema)


def test_where_reads_each_kind(mixed):
    schema = mixed.schema
    assert parse_where("plan=pro", schema) == Condition("plan", "=", "pro")
    assert parse_where(" spend >= 1,200.5 ", schema) == Condition("spend", ">=", 1200.5)
    assert parse_where("visits<3", schema) == Condition("visits", "<", 3.0)
    assert parse_where("joined>2023-06-01", schema) == Condition("joined", ">", pd.Timestamp("2023-06-01"))
    assert parse_where("active=No", schema) == Condition("active", "=", False)
    assert parse_where("PLAN=basic", schema).column == "plan"  # case of the column name does not matter


@pytest.mark.parametrize("text, words", [
    ("nosuch=1", "no column called 'nosuch'"), ("customer_id=C00001", "gets new made-up values"),
    ("plan>3", "takes ="), ("spend=lots", "is not a number"), ("active=maybe", "is yes/no"),
    ("plan", "write it as COLUMN=VALUE"), ("joined>soon", "is not a date"), ("visits=2.5", "whole numbers"),
    ("spend=nan", "not a number"),
])
def test_where_refuses_in_plain_words(mixed, text, words):
    with pytest.raises(ConditionError, match=words):
        parse_where(text, mixed.schema)


def test_balance_shares_percentages_and_equal(mixed):
    schema = mixed.schema
    mix = parse_balance("plan=basic:1,pro:50%,enterprise:0.5", schema)
    assert mix == Mix("plan", (("basic", 0.5), ("pro", 0.25), ("enterprise", 0.25)))
    equal = parse_balance("plan", schema, ["basic", "pro", "enterprise"])
    assert [share for _, share in equal.shares] == pytest.approx([1 / 3] * 3)


@pytest.mark.parametrize("text, words", [
    ("plan=pro:1,pro:2", "listed twice"), ("plan=pro:0", "share of 0"), ("spend=1:1", "numbers or dates"),
    ("plan=pro:inf,basic:1", "must be numbers"),
])
def test_balance_refuses_in_plain_words(mixed, text, words):
    with pytest.raises(ConditionError, match=words):
        parse_balance(text, mixed.schema)


def test_mix_counts_add_up_by_largest_remainder():
    mix = Mix("c", (("a", 1 / 3), ("b", 1 / 3), ("c", 1 / 3)))
    assert [n for _, n in mix.counts(100)] == [34, 33, 33]
    assert sum(n for _, n in Mix("c", (("a", 0.999), ("b", 0.001))).counts(7)) == 7


def test_parts_split_a_mix_into_row_conditions_with_their_rows():
    spend = Condition("spend", ">", 10.0)
    mixed_request = Conditions((spend,), Mix("plan", (("pro", 0.25), ("basic", 0.75))))
    parts = mixed_request.parts(10)
    assert [(p.where, p.mix, n) for p, n in parts] == [
        ((spend, Condition("plan", "=", "pro")), None, 3), ((spend, Condition("plan", "=", "basic")), None, 7)]
    plain = Conditions((spend,))
    assert plain.parts(10) == [(plain, 10)] and [n for _, n in mixed_request.parts()] == [0, 0]


def test_met_checks_typed_rows_and_missing_never_meets(mixed):
    frame = pd.DataFrame({"plan": pd.array(["pro", None, "basic"], dtype="string"),
                          "spend": [10.0, np.nan, 30.0], "active": pd.array([True, None, False], dtype="boolean"),
                          "joined": pd.to_datetime(["2023-01-01", None, "2024-01-01"])})
    assert Conditions((Condition("plan", "=", "pro"),)).met(frame).tolist() == [True, False, False]
    assert Conditions((Condition("spend", ">", 10.0),)).met(frame).tolist() == [False, False, True]
    assert Conditions((Condition("active", "=", False),)).met(frame).tolist() == [False, False, True]
    when = Conditions((Condition("joined", "<", pd.Timestamp("2023-06-01")),))
    assert when.met(frame).tolist() == [True, False, False]


def test_request_reads_in_plain_words_and_contradictions_are_refused(mixed):
    schema = mixed.schema
    asked = Conditions((parse_where("joined>=2023-03-01", schema), parse_where("active=yes", schema)),
                       parse_balance("plan=basic:1,pro:1", schema))
    assert asked.words() == "joined ≥ 2023-03-01 and active = Yes and mix of plan: basic 50%, pro 50%"
    with pytest.raises(ConditionError, match="both"):
        check_request(Conditions((Condition("plan", "=", "pro"), Condition("plan", "=", "basic"))))
    with pytest.raises(ConditionError, match="No value of 'spend'"):
        check_request(Conditions((Condition("spend", ">", 50.0), Condition("spend", "<", 20.0))))
    with pytest.raises(ConditionError, match="cannot also be mixed"):
        check_request(Conditions((Condition("plan", "=", "pro"),), Mix("plan", (("pro", 1.0),))))


def test_unseen_values_and_ranges_say_what_would_work(copula, mixed):
    schema = mixed.schema
    with pytest.raises(ConditionError, match="Did you mean 'enterprise'"):
        copula.sample(10, conditions=Conditions((parse_where("plan=enterprize", schema),)))
    with pytest.raises(ConditionError, match=r"The closest request it can meet is spend ≥ [\d.]+ \(the top 1% of rows\)"):
        copula.sample(10, conditions=Conditions((parse_where("spend>100000", schema),)))
    with pytest.raises(ConditionError, match="bottom 1%"):
        copula.sample(10, conditions=Conditions((parse_where("joined<2001-01-01", schema),)))
    with pytest.raises(ConditionError, match="holds one value only"):
        copula.sample(10, conditions=Conditions((Condition("note", "=", "other"),)))


def test_fixed_number_is_exact_and_rows_are_conditional(copula, mixed):
    out = copula.sample(300, seed=1, conditions=Conditions((Condition("spend", "=", 25.5),)))
    assert (out["spend"] == 25.5).all()
    ends_meet = Conditions((Condition("spend", ">=", 25.5), Condition("spend", "<=", 25.5)))  # a slider's two ends
    assert ends_meet.value_of("spend") == 25.5 and out.equals(copula.sample(300, seed=1, conditions=ends_meet))
    open_end = Conditions((Condition("spend", ">", 25.5), Condition("spend", "<=", 25.5)))  # no value between
    assert open_end.value_of("spend") is None
    real = mixed.typed()
    pro = copula.sample(400, seed=2, conditions=Conditions((Condition("plan", "=", "pro"),)))
    assert pro["spend"].median() > real.loc[real["plan"] == "basic", "spend"].median()  # pro spends twice as much


@pytest.fixture
def drawing_freely(copula, monkeypatch):
    """The copula without its own way of meeting conditions: it draws freely and the rows are kept or not."""
    from models.base import Generator

    monkeypatch.setattr(type(copula), "_sample_given", Generator._sample_given)
    return copula


def test_draw_and_keep_keeps_only_rows_drawn_with_the_value(drawing_freely, mixed):
    real = mixed.typed()
    pro = drawing_freely.sample(400, seed=2, conditions=Conditions((Condition("plan", "=", "pro"),)))
    assert (pro["plan"] == "pro").all()
    basic = real.loc[real["plan"] == "basic", "spend"].median()
    assert pro["spend"].median() > 1.4 * basic  # the rows drawn as "pro", not any row with the value written in
    exact = drawing_freely.sample(100, seed=2, conditions=Conditions((Condition("spend", "=", 25.5),)))
    assert (exact["spend"] == 25.5).all()


def test_a_case_too_rare_to_find_is_refused_with_the_rate(drawing_freely, mixed, monkeypatch):
    copula = drawing_freely
    monkeypatch.setattr(conditional, "MAX_DRAW_FACTOR", 2)
    monkeypatch.setattr(conditional, "MIN_DRAWS", 200)
    rare = Conditions((Condition("plan", "=", "enterprise"), Condition("spend", ">=", 60.0),
                       Condition("visits", ">=", 8.0)))
    with pytest.raises(ConditionError, match="too rare|Only about 1 in"):
        copula.sample(500, seed=0, conditions=rare)


def test_native_generators_are_listed():
    names = conditional.native_generators()
    assert {"autoregressive", "bayesnet", "copula", "diffusion", "gan", "rbm"} <= set(names)
    assert "vae" not in names


def test_shaped_outputs(copula, mixed):
    real = mixed.typed()
    asked = Conditions((Condition("plan", "=", "enterprise"),))
    added = make_output(copula, OutputPlan(100, Conditions(), 30, asked), seed=0, real=real)
    assert len(added.frame) == 130 and (added.frame["plan"].tail(30) == "enterprise").all()
    assert "last 30 rows" in added.notes[-1]
    basic = Conditions((Condition("plan", "=", "basic"),))
    plan = OutputPlan(100, basic, 30, asked)
    both = make_output(copula, plan, seed=0, real=real)
    short = dataclasses.replace(both, frame=both.frame.iloc[:-5], added_rows=25)  # as if 5 added rows were not made
    for result, added_rows in ((both, 30), (short, 25)):
        (first, first_asked), (last, last_asked) = shaped_parts(result, plan)
        assert (first_asked, last_asked) == (basic, asked) and (len(first), len(last)) == (100, added_rows)
        assert (first["plan"] == "basic").all() and (last["plan"] == "enterprise").all()
    augmented = make_output(copula, OutputPlan(0, Conditions(), 40, asked, augment=True), seed=0, real=real)
    frame = augmented.frame
    assert augmented.real_rows == len(real) and len(frame) == len(real) + 40
    assert frame[FLAG_COLUMN].sum() == 40 and (frame.loc[frame[FLAG_COLUMN], "plan"] == "enterprise").all()
    assert "contains your real rows" in augmented.notes[0] and augmented.schema.column(FLAG_COLUMN)
    parts = shaped_parts(augmented, OutputPlan(0, Conditions(), 40, asked, augment=True))
    assert len(parts) == 1 and len(parts[0][0]) == 40 and FLAG_COLUMN not in parts[0][0]
    with pytest.raises(ConditionError, match="Say which rows to add"):
        make_output(copula, OutputPlan(10, Conditions(), 5, Conditions()), real=real)
    with pytest.raises(ConditionError, match="not loaded"):
        make_output(copula, OutputPlan(0, Conditions(), 5, asked, augment=True))


def test_conditional_check_per_mixed_value(copula, mixed):
    real = mixed.typed()
    asked = Conditions((), Mix("plan", (("basic", 0.5), ("pro", 0.5))))
    rows = copula.sample(400, seed=3, conditions=asked)
    check = conditional_check(rows, asked, copula.schema_, real.head(50), real)
    assert check.judged_on == "all"  # 50 unseen rows hold too few of each plan
    assert [g.words for g in check.groups] == ["plan = basic", "plan = pro"]
    assert all(g.synthetic_rows == 200 and 0.5 < g.shapes <= 1 for g in check.groups)
    assert "plan" not in {w["column"] for g in check.groups for w in g.worst}  # fixed: left out of the scores
    assert type(check).from_dict(check.to_dict()) == check


def test_review_edge_cases(copula, mixed, monkeypatch):
    from models import synthesis
    from models.shaping import flag_name
    from tabular.schema import ColumnSpec, Handling, Kind

    schema = mixed.schema
    assert (copula.sample(20, seed=0, conditions=Conditions((Condition("note", "=", "fixed"),)))["note"]
            == "fixed").all()  # a one-value column: met by every row, not a crash
    assert len(copula.sample(0, conditions=Conditions((Condition("plan", "=", "pro"),)))) == 0
    monkeypatch.setattr(synthesis, "CHUNK_ROWS", 128)  # many chunks: the mix is still exact over the table
    thirds = Conditions((), Mix("plan", (("basic", 1 / 3), ("pro", 1 / 3), ("enterprise", 1 / 3))))
    made = synthesis.synthesize(copula, 1000, seed=0, real=mixed.typed(), conditions=thirds).frame
    assert sorted(made["plan"].value_counts().tolist()) == [333, 333, 334]
    clash = type(schema).from_json(schema.to_json())
    clash.columns.append(ColumnSpec("synthetic_row", Kind.YES_NO, Handling.SYNTHESIZE))
    assert flag_name(clash) == "synthetic_row_"


def test_new_ids_are_unique_across_the_parts_of_a_shaped_table(copula, mixed):
    from models.synthesis import synthesize

    half = Conditions((), Mix("plan", (("basic", 0.5), ("pro", 0.5))))
    real = mixed.typed()
    for seed in range(3):  # each value's rows are drawn on their own; their IDs must not meet
        made = synthesize(copula, 2000, seed=seed, real=real, conditions=half).frame
        assert made["customer_id"].is_unique and not made["customer_id"].isin(real["customer_id"]).any()
    asked = Conditions((Condition("plan", "=", "enterprise"),))
    added = make_output(copula, OutputPlan(1500, Conditions(), 500, asked), seed=0, real=real).frame
    assert len(added) == 2000 and added["customer_id"].is_unique


@pytest.mark.parametrize("text, value", [("1,5", 1.5), ("1.234,5", 1234.5), ("12 €", 12.0), ("-3", -3.0),
                                         ("25.5", 25.5), ("1,234.5", 1234.5)])
def test_numbers_are_read_in_the_columns_own_style(text, value):
    from tabular.conditions import typed_value
    from tabular.schema import ColumnFormat, ColumnSpec, Handling, Kind

    euros = ColumnSpec("amount", Kind.NUMBER, Handling.SYNTHESIZE,
                       format=ColumnFormat(decimal_sep=",", thousands_sep=".", suffix=" €"))
    assert typed_value(euros, text) == value


def test_a_date_is_read_in_the_columns_own_pattern():
    from tabular.conditions import typed_value
    from tabular.schema import ColumnFormat, ColumnSpec, Handling, Kind

    day_first = ColumnSpec("signup", Kind.DATETIME, Handling.SYNTHESIZE,
                           format=ColumnFormat(datetime_format="%d/%m/%Y"))
    assert typed_value(day_first, "01/02/2024") == pd.Timestamp("2024-02-01")
    assert typed_value(day_first, "2024-03-05") == pd.Timestamp("2024-03-05")  # ISO, whatever the column writes


def test_a_check_leaves_what_it_cannot_score_unscored(copula, mixed):
    from evaluation.conditional import without

    real, asked = mixed.typed(), Conditions((Condition("plan", "=", "pro"),))
    rows = copula.sample(300, seed=0, conditions=asked)
    keep = {"plan", "spend", "note"}  # note holds one value: learned, but no quality score compares it
    schema = without(copula.schema_, {c.name for c in copula.schema_.columns if c.name not in keep})
    group = conditional_check(rows, asked, schema, real, real).groups[0]
    assert group.shapes > 0.5 and group.trends is None  # spend is the only scored column: no pair to score
    assert group.unscored_because is None
    group = conditional_check(rows, asked, without(schema, {"spend"}), real, real).groups[0]
    assert group.shapes is None and group.trends is None and group.worst == []
    assert group.unscored_because.startswith("no other column can be compared")
    few = conditional_check(rows, asked, schema, real.head(20), real.head(20)).groups[0]  # fewer than 20 pro rows
    assert few.shapes is None and few.unscored_because.startswith("too few real rows")
    none = GroupCheck("plan = pro", synthetic_rows=0, real_rows=100)  # the file holds no row of the group
    assert none.unscored_because.startswith("no row of the file has it")

