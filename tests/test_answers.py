"""Check-in answers typed as plain text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins.answers import AnswerParse, MetricLabel, parse_answer
from bot.parsing import parse_number

POTHOLES = [MetricLabel("filled", "Potholes filled"), MetricLabel("backlog", "Backlog")]
HR = [
    MetricLabel("open_cases", "Open cases"),
    MetricLabel("open_positions", "Open positions"),
    MetricLabel("hires", "New hires"),
]
CALLS = [
    MetricLabel("calls_311", "Calls to 311"),
    MetricLabel("closed", "Calls answered and closed"),
    MetricLabel("calls", "Calls"),
]


@pytest.mark.parametrize(
    ("typed", "values"),
    [
        ("filled 412, backlog 35", {"filled": "412", "backlog": "35"}),
        ("412 filled; backlog: 35", {"filled": "412", "backlog": "35"}),
        ("backlog = 35\nPotholes filled 412", {"backlog": "35", "filled": "412"}),
        ("Potholes filled 412", {"filled": "412"}),
        ("pothole 412", {"filled": "412"}),
        ("POTHOLES: 412", {"filled": "412"}),
        ("fil 412", {"filled": "412"}),
        ("filled 412 and backlog 35", {"filled": "412", "backlog": "35"}),
        ("filled 412 & backlog 35", {"filled": "412", "backlog": "35"}),
        ("Filled 412. Backlog 35.", {"filled": "412", "backlog": "35"}),
        ("filled 1,234, backlog 35", {"filled": "1,234", "backlog": "35"}),
        ("filled 1,234,567", {"filled": "1,234,567"}),
        ("backlog 12.5", {"backlog": "12.5"}),
        ("backlog -3", {"backlog": "-3"}),
        ("backlog - 3", {"backlog": "3"}),
        ("filled 1.5k", {"filled": "1.5k"}),
        ("we filled 412 potholes this week", {"filled": "412"}),
        ("backlog 35, backlog 35", {"backlog": "35"}),
        ("backlog 1,234; backlog 1234", {"backlog": "1,234"}),
        # Kept as typed so parse_number can refuse the decimal comma with its hint.
        ("backlog 12,5", {"backlog": "12,5"}),
    ],
)
def test_answers_pair_numbers_with_metrics(typed: str, values: dict[str, str]) -> None:
    parsed = parse_answer(typed, POTHOLES)
    assert parsed == AnswerParse(values=values, problems=[], question=None)
    assert parsed.ok


def test_numbers_keep_units_as_typed() -> None:
    metrics = [MetricLabel("rate", "Clearance rate"), MetricLabel("spend", "Overtime spend")]
    parsed = parse_answer("clearance 85%, overtime $3,400.50", metrics)
    assert parsed.values == {"rate": "85%", "spend": "$3,400.50"}


def test_exact_key_wins_over_prefixes() -> None:
    assert parse_answer("calls 40", CALLS).values == {"calls": "40"}
    assert parse_answer("open_cases 3", HR).values == {"open_cases": "3"}


def test_a_name_containing_and_or_digits_is_one_metric() -> None:
    parsed = parse_answer("Calls answered and closed 40, calls to 311 12", CALLS)
    assert parsed.values == {"closed": "40", "calls_311": "12"}
    assert parsed.ok


def test_a_bare_number_goes_to_the_only_metric() -> None:
    parsed = parse_answer("412", [MetricLabel("filled", "Potholes filled")])
    assert parsed.values == {"filled": "412"}
    assert parsed.ok


def test_a_bare_number_with_several_metrics_is_a_question() -> None:
    parsed = parse_answer("412", POTHOLES)
    assert parsed.values == {}
    assert parsed.question == 'Which metric is "412"? This unit reports: Potholes filled, Backlog.'


def test_an_ambiguous_word_is_asked_about_not_picked() -> None:
    parsed = parse_answer("open 35, hires 2", HR)
    assert parsed.values == {"hires": "2"}
    assert parsed.problems == ['Which metric is "open 35"? It could be Open cases or Open positions.']
    assert parsed.question == parsed.problems[0]
    assert not parsed.ok


def test_an_unknown_metric_lists_what_the_unit_reports() -> None:
    parsed = parse_answer("widgets 35, backlog 3", POTHOLES)
    assert parsed.values == {"backlog": "3"}
    assert parsed.question == (
        'I don\'t know a metric called "widgets"; this unit reports: Potholes filled, Backlog.'
    )


def test_words_that_fit_no_single_metric_are_unknown() -> None:
    parsed = parse_answer("filled 412 potholes on Main Street", POTHOLES)
    assert parsed.values == {}
    assert parsed.question is not None
    assert "I don't know a metric called" in parsed.question


def test_a_fragment_without_a_number_is_a_problem() -> None:
    parsed = parse_answer("filled 412, backlog", POTHOLES)
    assert parsed.values == {"filled": "412"}
    assert parsed.problems == ['No number for "backlog"']
    assert parsed.question == "What is the number for Backlog?"


def test_the_same_metric_with_two_values_is_a_problem() -> None:
    parsed = parse_answer("backlog 35, filled 4, backlog 40", POTHOLES)
    assert parsed.values == {"filled": "4"}
    assert parsed.problems == ["Backlog was given more than once (35 and 40)"]
    assert parsed.question == "Which is right for Backlog: 35 or 40?"


def test_two_numbers_in_one_fragment_is_a_problem() -> None:
    parsed = parse_answer("filled 412 35", POTHOLES)
    assert parsed.values == {}
    assert parsed.problems[0].startswith('"filled 412 35" has more than one number')
    assert parsed.question is not None


def test_spaces_never_group_thousands_in_answers() -> None:
    parsed = parse_answer("filled 100 200", POTHOLES)
    assert parsed.values == {}
    assert "more than one number" in parsed.problems[0]


@pytest.mark.parametrize("typed", ["", "hello", "backlog is up, sorry", "Q? no idea"])
def test_text_without_numbers_says_so(typed: str) -> None:
    parsed = parse_answer(typed, POTHOLES)
    assert parsed.values == {}
    assert parsed.question is None
    assert len(parsed.problems) == 1
    assert "no numbers" in parsed.problems[0]
    assert "potholes filled 412" in parsed.problems[0]


def test_a_unit_without_metrics() -> None:
    parsed = parse_answer("412", [])
    assert parsed.values == {}
    assert parsed.question is not None
    assert "no metrics" in parsed.question


_ANSWERISH = st.lists(
    st.sampled_from(
        [
            "filled", "backlog", "pothole", "open", "calls", "to", "311", "412", "1,234", "12,5",
            ",", ";", "\n", "and", ":", "=", "-", "$", "%", "k", ".", "35", "the", "widgets",
        ]
    ),
    max_size=10,
).map(" ".join)  # fmt: skip

_METRICS = st.lists(
    st.builds(MetricLabel, key=st.text(max_size=10), name=st.text(max_size=20)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(), _ANSWERISH),
    st.one_of(_METRICS, st.sampled_from([POTHOLES, HR, CALLS])),
)
def test_parse_answer_never_raises_and_explains_every_problem(text: str, metrics: list[MetricLabel]) -> None:
    parsed = parse_answer(text, metrics)
    keys = {metric.key for metric in metrics}
    assert set(parsed.values) <= keys
    for raw in parsed.values.values():
        assert raw in text
        assert any(ch.isdigit() for ch in raw)
    for problem in parsed.problems:
        assert problem.strip()
    if parsed.question is not None:
        assert parsed.problems
    if not parsed.values:
        assert parsed.problems


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_typed_numbers_reach_parse_number_intact(filled: int, backlog: int) -> None:
    parsed = parse_answer(f"filled {filled:,}, backlog {backlog}", POTHOLES)
    assert parse_number(parsed.values["filled"]) == filled
    assert parse_number(parsed.values["backlog"]) == backlog
