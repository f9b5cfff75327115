"""The org file: the reference example, every kind of mistake an admin can make, and
bad input that must be refused with places rather than crash the loader."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.escalations.policy import KINDS
from bot.org.schema import OrgFile, OrgFileError, load_org, parse_org

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_RAW: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
# Writing the edited example back as YAML is the slow part of the properties.
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# units[2].metrics[0].target, organisation.digest.audience[1], people[0] ...
PLACE = re.compile(r"^[a-z_]+(\[\d+\])*(\.[a-z_]+(\[\d+\])*)*: \S")


def unit_index(key: str) -> int:
    return next(i for i, unit in enumerate(EXAMPLE_RAW["units"]) if unit["key"] == key)


def edited(change: Callable[[dict[str, Any]], object]) -> str:
    raw = copy.deepcopy(EXAMPLE_RAW)
    change(raw)
    return yaml.dump(raw, Dumper=DUMPER, sort_keys=False)


def problems_of(text: str) -> list[str]:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text)
    assert caught.value.problems, "an OrgFileError must name at least one problem"
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# --- the reference example ----------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> OrgFile:
    return load_org(str(EXAMPLE))


def test_example_meets_the_minimums_of_a_realistic_org(example: OrgFile) -> None:
    assert len(example.units) >= 6
    assert len(example.people) >= 15
    for unit in example.units:
        assert 3 <= len(unit.metrics) <= 5, unit.key
    zones = {example.organisation.timezone} | {u.timezone for u in example.units if u.timezone}
    assert len(zones) >= 2
    assert example.organisation.holidays is not None
    assert example.organisation.holidays.country == "US"
    assert example.organisation.leadership_audiences() == ["channel:citistat"]
    assert any(unit.restricted for unit in example.units)


def test_example_people_hold_every_role_the_units_and_digest_name(example: OrgFile) -> None:
    emails = {person.email for person in example.people}
    for unit in example.units:
        assert {unit.head, unit.leader} <= emails
        assert unit.deputy is None or unit.deputy in emails
        assert "leader" in example.person(unit.leader).roles or "admin" in example.person(unit.leader).roles
    assert example.organisation.digest.day == "monday"
    assert example.organisation.digest.time == dt.time(8, 0)
    assert len(example.organisation.digest.audience) >= 3
    assert set(example.organisation.digest.audience) <= emails
    assert any("admin" in person.roles for person in example.people)
    assert any("analyst" in person.roles for person in example.people)


def test_example_policies_cover_every_kind_with_bounded_repeats(example: OrgFile) -> None:
    policies = {policy.name: policy for policy in example.escalation_policies}
    assert len(policies) >= 2
    assert {unit.escalation_policy for unit in example.units} <= set(policies)
    for policy in policies.values():
        assert set(policy.chains) == set(KINDS), policy.name
        for chain in policy.chains.values():
            assert [step.notify for step in chain.steps] == ["owner", "deputy", "leader", "channel"]
            assert chain.repeat_times <= 10
            assert chain.repeat_every is None or chain.repeat_every > dt.timedelta(0)


def test_example_metrics_have_targets_inside_their_ranges(example: OrgFile) -> None:
    for unit in example.units:
        for metric in unit.metrics:
            assert metric.range is not None, f"{unit.key}.{metric.key}"
            low, high = metric.range
            assert low <= metric.target <= high
            assert metric.amber < high - low


def test_example_times_read_as_the_clock_times_written(example: OrgFile) -> None:
    units = {unit.key: unit for unit in example.units}
    assert units["customer_service"].checkin.time == dt.time(14, 0)
    assert units["customer_service"].checkin.deadline_time == dt.time(12, 0)
    assert units["water"].timezone == "America/Chicago"
    assert units["water"].checkin.time == dt.time(8, 0)
    # A unit that says nothing gets Thursday 09:00, due Friday 16:00.
    assert units["sanitation"].checkin.day == "thursday"
    assert units["sanitation"].checkin.time == dt.time(9, 0)
    assert units["sanitation"].checkin.deadline_day == "friday"
    assert units["sanitation"].checkin.deadline_time == dt.time(16, 0)


# --- every mistake, named by its place ----------------------------------------------------


def test_three_mistakes_are_all_named_by_their_place() -> None:
    parks, water = unit_index("parks"), unit_index("water")

    def mistakes(raw: dict[str, Any]) -> None:
        raw["units"][2]["metrics"][0]["target"] = "eighty-five"
        raw["units"][parks]["head"] = "pat.doe@riverton.gov"
        raw["units"][water]["timezone"] = "America/Chicgo"

    problems = problems_of(edited(mistakes))
    assert sorted(problems) == sorted(
        [
            "units[2].metrics[0].target: must be a number",
            f"units[{parks}].head: pat.doe@riverton.gov is not one of the people",
            f"units[{water}].timezone: 'America/Chicgo' is not an IANA time zone (like Europe/Paris)",
        ]
    )


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set a value by a dotted path of keys and indexes (``units.0.checkin``)."""

    def change(raw: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = raw
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = raw
        for part in parents:
            node = node[part]
        del node[last]

    return change


SANITATION = unit_index("sanitation")  # head robert.hayes, deputy maria.santos
PARKS = unit_index("parks")

MISTAKES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("missing organisation", _drop("organisation"), "organisation: is required"),
    ("missing unit head", _drop("units.1.head"), "units[1].head: is required"),
    ("missing metric target", _drop("units.1.metrics.2.target"), "units[1].metrics[2].target: is required"),
    ("missing person email", _drop("people.3.email"), "people[3].email: is required"),
    ("no units", _set("units", []), "units: must not be empty"),
    ("no metrics", _set("units.0.metrics", []), "units[0].metrics: must not be empty"),
    ("unknown unit field", _set("units.1.colour", "red"), "units[1].colour: is not a known field"),
    ("unknown top-level field", _set("departments", []), "departments: is not a known field"),
    (
        "misspelt metric field",
        _set("units.0.metrics.1.traget", 5),
        "units[0].metrics[1].traget: is not a known field",
    ),
    (
        "bad weekday",
        _set("units.0.checkin", {"day": "thursdy"}),
        "units[0].checkin.day: must be one of: monday, tuesday, wednesday, thursday, friday, "
        "saturday or sunday",
    ),
    (
        "bad digest weekday",
        _set("organisation.digest.day", "Mon"),
        "organisation.digest.day: must be one of: monday, tuesday, wednesday, thursday, friday, "
        "saturday or sunday",
    ),
    (
        "quoted 25:00",
        _set("units.0.checkin", {"time": "25:00"}),
        "units[0].checkin.time: '25:00' is not a time of day; write it like \"09:00\"",
    ),
    (
        "minute 75",
        _set("units.0.checkin", {"deadline_time": "16:75"}),
        "units[0].checkin.deadline_time: '16:75' is not a time of day; write it like \"09:00\"",
    ),
    (
        "time as a word",
        _set("organisation.digest.time", "morning"),
        "organisation.digest.time: 'morning' is not a time of day; write it like \"09:00\"",
    ),
    (
        "time as a boolean",
        _set("organisation.digest.time", True),
        'organisation.digest.time: True is not a time of day; write it like "09:00"',
    ),
    (
        "working hours backwards",
        _set("organisation.working_hours", {"start": "17:00", "end": "08:00"}),
        "organisation.working_hours: end must be after start",
    ),
    (
        "duplicate email, other case",
        _set("people.5.email", "Dana.Whitfield@Riverton.gov"),
        "people[5].email: dana.whitfield@riverton.gov is already people[0]",
    ),
    (
        "not an email",
        _set("people.2.email", "priya.raman"),
        "people[2].email: 'priya.raman' is not an email address",
    ),
    (
        "unknown role",
        _set("people.0.roles", ["mayor"]),
        "people[0].roles[0]: must be one of: admin, leader or analyst",
    ),
    (
        "duplicate unit key",
        _set("units.3.key", "sanitation"),
        "units[3].key: 'sanitation' is already units[0]",
    ),
    (
        "bad unit key",
        _set("units.3.key", "Fire Dept"),
        "units[3].key: must be lower case letters, digits, - or _, starting with a letter",
    ),
    (
        "duplicate metric key",
        _set("units.1.metrics.2.key", "potholes_filled"),
        "units[1].metrics[2].key: 'potholes_filled' is already units[1].metrics[0]",
    ),
    (
        "deputy is the head",
        _set(f"units.{SANITATION}.deputy", "Robert.Hayes@riverton.gov"),
        f"units[{SANITATION}].deputy: the deputy must not be the head",
    ),
    (
        "unknown deputy",
        _set(f"units.{PARKS}.deputy", "nobody@riverton.gov"),
        f"units[{PARKS}].deputy: nobody@riverton.gov is not one of the people",
    ),
    (
        "unknown leader",
        _set("units.0.leader", "mayor@riverton.gov"),
        "units[0].leader: mayor@riverton.gov is not one of the people",
    ),
    (
        "unknown policy",
        _set("units.0.escalation_policy", "gentle"),
        "units[0].escalation_policy: no policy named 'gentle'",
    ),
    (
        "policy defined twice",
        _set("escalation_policies.1.name", "standard"),
        "escalation_policies[1].name: 'standard' is defined twice",
    ),
    (
        "target outside range",
        _set("units.0.metrics.0.target", 6000),
        "units[0].metrics[0]: target 6000 is outside the range [0, 5000]",
    ),
    (
        "percent target over 100",
        _set("units.0.metrics.2.target", 125),
        "units[0].metrics[2]: target 125 is outside the range [0, 100]",
    ),
    (
        "range backwards",
        _set("units.0.metrics.0.range", [5000, 0]),
        "units[0].metrics[0]: range must be [lowest, highest] with lowest < highest",
    ),
    (
        "target not a number",
        _set("units.0.metrics.0.target", "lots"),
        "units[0].metrics[0].target: must be a number",
    ),
    ("negative amber", _set("units.0.metrics.0.amber", -5), "units[0].metrics[0].amber: must be at least 0"),
    (
        "unknown measure",
        _set("units.0.metrics.0.measure", "seconds"),
        "units[0].metrics[0].measure: must be one of: count, days, percent, dollars, hours or number",
    ),
    (
        "unknown direction",
        _set("units.0.metrics.0.direction", "up"),
        "units[0].metrics[0].direction: must be one of: higher or lower",
    ),
    (
        "restricted not a boolean",
        _set("units.0.restricted", "maybe"),
        "units[0].restricted: must be true or false",
    ),
    (
        "unknown holiday country",
        _set("organisation.holidays", {"country": "XX"}),
        "organisation.holidays: no holiday calendar for country 'XX'",
    ),
    (
        "unknown holiday subdivision",
        _set("organisation.holidays.subdivision", "ZZ"),
        "organisation.holidays: no subdivision 'ZZ' in the holiday calendar of US",
    ),
    (
        "bad organisation time zone",
        _set("organisation.timezone", "Eastern"),
        "organisation.timezone: 'Eastern' is not an IANA time zone (like Europe/Paris)",
    ),
    (
        "bad person time zone",
        _set("people.0.timezone", "America/Riverton"),
        "people[0].timezone: 'America/Riverton' is not an IANA time zone (like Europe/Paris)",
    ),
    (
        "bad data-check factor",
        _set("organisation.data_check.factor", 1),
        "organisation.data_check.factor: must be more than 1",
    ),
    (
        "bad duration in a policy",
        _set("escalation_policies.0.chains.missed_checkin.steps.1.wait", "soon"),
        "escalation_policies[0].chains.missed_checkin.steps[1].wait: 'soon' is not a duration; "
        "write it like 4h, 2d, 1w or 1d 12h",
    ),
    (
        "bad reminder duration",
        _set("organisation.reminders.before_deadline", "a while"),
        "organisation.reminders.before_deadline: 'a while' is not a duration; "
        "write it like 4h, 2d, 1w or 1d 12h",
    ),
    (
        "unknown recipient",
        _set("escalation_policies.0.chains.missed_checkin.steps.3.notify", "mayor"),
        "escalation_policies[0].chains.missed_checkin.steps[3].notify: must be one of: owner, "
        "deputy, leader or channel",
    ),
    (
        "unknown chain kind",
        _set("escalation_policies.0.chains.late_report", {"steps": [{"wait": "1d", "notify": "owner"}]}),
        "escalation_policies[0].chains.late_report: must be one of: missed_checkin, "
        "overdue_commitment, quiet_commitment or unanswered_followup",
    ),
    (
        "chain without steps",
        _set("escalation_policies.1.chains.missed_checkin.steps", []),
        "escalation_policies[1].chains.missed_checkin.steps: must not be empty",
    ),
    (
        "too many repeats",
        _set("escalation_policies.0.chains.missed_checkin.repeat_times", 50),
        "escalation_policies[0].chains.missed_checkin.repeat_times: must be at most 10",
    ),
    (
        "digest audience not a person",
        _set("organisation.digest.audience.2", "cfo@riverton.gov"),
        "organisation.digest.audience[2]: cfo@riverton.gov is not one of the people",
    ),
    ("people not a list", _set("people", {"email": "dana.whitfield@riverton.gov"}), "people: must be a list"),
    ("unit not a mapping", _set("units.4", "parks"), "units[4]: must be a mapping"),
]


@pytest.mark.parametrize(
    ("change", "problem"),
    [pytest.param(change, problem, id=name) for name, change, problem in MISTAKES],
)
def test_each_mistake_is_refused_with_its_place_and_message(
    change: Callable[[dict[str, Any]], object], problem: str
) -> None:
    problems = problems_of(edited(change))
    assert problem in problems
    for each in problems:
        assert PLACE.match(each), each


def test_unquoted_out_of_range_time_is_refused_not_read_as_midnight() -> None:
    # YAML 1.1 reads 25:00 as the number 1500; it must not wrap round to 00:00.
    text = EXAMPLE_TEXT.replace('deadline_time: "12:00"', "deadline_time: 25:00", 1)
    assert text != EXAMPLE_TEXT
    problems = problems_of(text)
    assert problems == [
        f"units[{unit_index('customer_service')}].checkin.deadline_time: 25:00 is not a time "
        'of day; write it like "09:00"'
    ]


def test_invalid_yaml_is_refused_with_its_line() -> None:
    text = "organisation:\n  name: Riverton\npeople: [\n  - email: a@b.c\n"
    problems = problems_of(text)
    assert len(problems) == 1
    assert re.match(r"org file at line \d+, column \d+: not valid YAML \(.+\)$", problems[0])
    bad_indent = "organisation:\n  name: Riverton\n timezone: UTC\n"
    assert problems_of(bad_indent)[0].startswith("org file at line 3, column 2: not valid YAML")


def test_the_source_names_the_file_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("organisation: [\n", encoding="utf-8")
    with pytest.raises(OrgFileError) as caught:
        load_org(str(path))
    assert caught.value.problems[0].startswith(f"{path} at line ")
    with pytest.raises(OrgFileError) as missing:
        load_org(str(tmp_path / "nope.yaml"))
    assert missing.value.problems == [f"{tmp_path / 'nope.yaml'}: cannot read (No such file or directory)"]


@pytest.mark.parametrize(
    "text", ["", "   \n# only a comment\n", "- organisation\n- people\n", "just some words", "42"]
)
def test_a_file_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert problems_of(text) == ["org file: must be a mapping with organisation, people and units"]


def test_deeply_nested_yaml_is_refused_not_a_crash() -> None:
    assert problems_of("[" * 1000) == ["org file: nested too deeply to be an org file"]


def test_emails_are_normalised_to_lower_case() -> None:
    def shout(raw: dict[str, Any]) -> None:
        raw["people"][0]["email"] = "  Dana.Whitfield@Riverton.GOV"[2:]
        raw["units"][0]["head"] = "ROBERT.HAYES@riverton.gov"
        raw["units"][0]["leader"] = " Luis.Ortega@Riverton.gov "
        raw["organisation"]["digest"]["audience"][0] = "DANA.WHITFIELD@riverton.gov"

    org = parse_org(edited(shout))
    assert org.people[0].email == "dana.whitfield@riverton.gov"
    assert org.units[0].head == "robert.hayes@riverton.gov"
    assert org.units[0].leader == "luis.ortega@riverton.gov"
    assert org.organisation.digest.audience[0] == "dana.whitfield@riverton.gov"
    assert org.person("dana.whitfield@riverton.gov").name == "Dana Whitfield"


def test_unquoted_times_still_work() -> None:
    text = (
        EXAMPLE_TEXT.replace('time: "14:00"', "time: 14:00", 1)
        .replace('deadline_time: "12:00"', "deadline_time: 12:00", 1)
        .replace('time: "08:00"', "time: 8:00", 1)
    )
    assert text.count('"14:00"') == EXAMPLE_TEXT.count('"14:00"') - 1
    org = parse_org(text)
    unit = org.units[unit_index("customer_service")]
    assert unit.checkin.time == dt.time(14, 0)
    assert unit.checkin.deadline_time == dt.time(12, 0)
    assert org.organisation.digest.time == dt.time(8, 0)


def test_quoted_single_digit_hour_works() -> None:
    org = parse_org(edited(_set("units.0.checkin", {"time": "9:30"})))
    assert org.units[0].checkin.time == dt.time(9, 30)


def test_percent_metrics_default_to_zero_to_hundred() -> None:
    def no_range(raw: dict[str, Any]) -> None:
        raw["units"][0]["metrics"][2].pop("range", None)

    org = parse_org(edited(no_range))
    assert org.units[0].metrics[2].measure == "percent"
    assert org.units[0].metrics[2].range == (0.0, 100.0)


def test_a_minimal_file_gets_the_documented_defaults() -> None:
    text = """
organisation: {name: Tiny Town}
people: [{email: a@tiny.town, name: A}]
units:
  - key: clerk
    name: Clerk
    head: a@tiny.town
    leader: a@tiny.town
    metrics: [{key: forms, name: Forms, measure: count, target: 10, direction: higher}]
"""
    org = parse_org(text)
    assert org.organisation.timezone == "UTC"
    assert org.organisation.holidays is None
    assert org.units[0].checkin.day == "thursday"
    assert org.units[0].checkin.deadline_time == dt.time(16, 0)
    assert org.escalation_policies == ()


DURATIONS = [
    "organisation.reminders.before_deadline",
    "organisation.reminders.after_deadline_every",
    "escalation_policies.0.chains.missed_checkin.steps.0.wait",
    "escalation_policies.1.chains.quiet_commitment.repeat_every",
]


def _place(path: str) -> str:
    return re.sub(r"\.(\d+)", r"[\1]", path)


@pytest.mark.parametrize("path", DURATIONS)
@pytest.mark.parametrize("value", [10**30, float("inf"), "99999999999999d", "400d"], ids=repr)
def test_absurd_durations_are_refused_with_their_place(path: str, value: object) -> None:
    problems = problems_of(edited(_set(path, value)))
    assert len(problems) == 1
    assert problems[0].startswith(f"{_place(path)}: "), problems
    assert "longer than a year" in problems[0]


@pytest.mark.parametrize("path", DURATIONS)
def test_negative_durations_are_refused_with_their_place(path: str) -> None:
    problems = problems_of(edited(_set(path, -5)))
    assert [problem.split(": ")[0] for problem in problems] == [_place(path)]


@pytest.mark.parametrize(
    "path",
    [
        "units.0.metrics.0.target",
        "units.0.metrics.0.amber",
        "units.0.metrics.0.range.1",
        "organisation.data_check.factor",
        "organisation.data_check.weeks",
        "escalation_policies.0.quiet_after_days",
        "escalation_policies.0.chains.missed_checkin.repeat_times",
        "units.2.checkin.time",
        "people.0.name",
    ],
)
@pytest.mark.parametrize(
    "value", [10**400, -(10**400), float("inf"), float("nan")], ids=["huge", "-huge", "inf", "nan"]
)
def test_extreme_numbers_are_refused_with_their_place(path: str, value: object) -> None:
    problems = problems_of(edited(_set(path, value)))
    assert [problem.split(": ")[0] for problem in problems] == [_place(path)]


def test_infinite_target_names_the_finite_rule() -> None:
    problems = problems_of(edited(_set("units.0.metrics.1.target", float("inf"))))
    assert problems == ["units[0].metrics[1].target: must be a finite number"]


# --- properties ---------------------------------------------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("ab:-_ \n\t[]{},'\"0123456789.&*!#|>%@`?~\\")))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), YAMLISH))
def test_arbitrary_text_is_either_an_org_or_an_org_file_error(text: str) -> None:
    try:
        org = parse_org(text)
    except OrgFileError as exc:
        assert exc.problems
        assert all(isinstance(problem, str) and problem for problem in exc.problems)
    else:
        assert isinstance(org, OrgFile)


def _paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    children: list[tuple[str | int, object]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


PATHS = _paths(EXAMPLE_RAW)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "09:00",
            "9:00",
            "25:00",
            "monday",
            "Thursday",
            "4h",
            "0",
            "-1d",
            "dana.whitfield@riverton.gov",
            "DANA.WHITFIELD@RIVERTON.GOV",
            "standard",
            "US",
            "America/Chicago",
            "owner",
            "percent",
            "count",
            "[0, 1]",
            "{}",
        ]
    ),
    st.just([]),
    st.just({}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), drop=st.booleans(), value=SCALARS)
def test_one_mutated_field_is_either_valid_or_refused_with_places(
    path: tuple[str | int, ...], drop: bool, value: object
) -> None:
    raw = copy.deepcopy(EXAMPLE_RAW)
    *parents, last = path
    node: Any = raw
    for part in parents:
        node = node[part]
    if drop:
        del node[last]
    else:
        node[last] = value
    try:
        org = parse_org(yaml.dump(raw, Dumper=DUMPER, sort_keys=False))
    except OrgFileError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert PLACE.match(problem), problem
    else:
        assert isinstance(org, OrgFile)


def test_too_many_metrics_for_one_form_are_refused() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    first = raw["units"][0]["metrics"][0]
    raw["units"][0]["metrics"] = [dict(first, key=f"m{i}") for i in range(21)]
    with pytest.raises(OrgFileError) as caught:
        parse_org(yaml.safe_dump(raw))
    assert caught.value.problems == ["units[0].metrics: must have at most 20 entries"]
