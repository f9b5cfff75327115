"""The org file: its schema, and validation that lists every problem by its place.

An invalid file is refused as a whole.  Structural problems come from pydantic; the
cross-references (a unit's head must be a person of the file, keys unique, policies
known) are checked on the raw data too, so one run names every mistake at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from bot.deliveries.models import Delivery
from bot.escalations.policy import Duration, Policy

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Wall-clock hours and minutes only: the unit's or organisation's time zone applies.
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::00)?$")
# Listing the zone files takes milliseconds, and a file names dozens of zones.
_zone_names = functools.cache(available_timezones)


class OrgFileError(Exception):
    """The org file cannot be used; ``problems`` lists each one as ``place: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class _Strict(BaseModel):
    # inf and nan are never meant as a target, an amber band or a range.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (like Europe/Paris)") from None
    if value not in _zone_names() and value != "UTC":
        raise ValueError(f"{value!r} is not an IANA time zone (like Europe/Paris)")
    return value


def _check_time(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # YAML 1.1 reads 9:00 unquoted as a sexagesimal number of minutes (540).  Anything
        # from 24:00 up is refused rather than read as seconds, so 25:00 is not midnight.
        if value < 24 * 60:
            return dt.time(value // 60, value % 60)
        written = f"{value // 60}:{value % 60:02d}"
        raise ValueError(f'{written} is not a time of day; write it like "09:00"')
    if isinstance(value, str):
        match = _TIME.match(value.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
    raise ValueError(f'{value!r} is not a time of day; write it like "09:00"')


def _has_calendar(country: str) -> bool:
    try:
        holidays.country_holidays(country)
    except Exception:
        return False
    return True


class Holidays(_Strict):
    country: str
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            if self.subdivision is not None and _has_calendar(self.country):
                raise ValueError(
                    f"no subdivision {self.subdivision!r} in the holiday calendar of {self.country}"
                ) from None
            raise ValueError(f"no holiday calendar for country {self.country!r}") from None
        except Exception as exc:  # the package raises various errors for bad subdivisions
            raise ValueError(str(exc)) from None
        return self


class WorkingHours(_Strict):
    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(17, 30)
    days: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")

    _times = field_validator("start", "end", mode="before")(_check_time)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class DigestSchedule(_Strict):
    day: Weekday = "monday"
    time: dt.time = dt.time(8, 0)
    # Emails of people who get the digest as a direct message.
    audience: tuple[str, ...] = ()
    post_to_channel: bool = True

    _time = field_validator("time", mode="before")(_check_time)

    @field_validator("audience")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Matched against people's emails, which are stored in lower case.
        return tuple(email.strip().lower() for email in value)


class DataCheck(_Strict):
    # A value more than `factor` times (or less than 1/factor of) the recent median asks
    # the person to confirm or correct it.
    factor: float = Field(default=3.0, gt=1)
    weeks: int = Field(default=4, ge=1, le=26)


class Reminders(_Strict):
    before_deadline: Duration = dt.timedelta(hours=4)
    # After the deadline, remind the respondent this often until the check-in is
    # submitted (the escalation chain takes the item to others).
    after_deadline_every: Duration = dt.timedelta(days=1)
    after_deadline_times: int = Field(default=2, ge=0, le=10)


Platform = Literal["slack", "teams"]
PLATFORMS: tuple[Platform, ...] = ("slack", "teams")


class LeadershipChannel(_Strict):
    """Where the digest is posted and the last escalation steps land, per platform.

    The org file may name one Slack channel (``leadership_channel: citistat``) or one per
    platform (``leadership_channel: {slack: citistat, teams: "<team id>/<channel id>"}``)."""

    slack: str | None = Field(default=None, min_length=1)
    teams: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: object) -> object:
        # A plain string is the Slack channel, as before several platforms were supported.
        return {"slack": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _some(self) -> LeadershipChannel:
        if self.slack is None and self.teams is None:
            raise ValueError("name a channel for slack, teams or both")
        return self

    @model_serializer(mode="plain")
    def _dump(self) -> str | dict[str, str]:
        # Stored the way it was written when only Slack is named, so an org applied
        # before several platforms existed shows no change.
        if self.teams is None and self.slack is not None:
            return self.slack
        return {str(p): name for p, name in self.named().items()}

    def named(self) -> dict[Platform, str]:
        pairs: tuple[tuple[Platform, str | None], ...] = (("slack", self.slack), ("teams", self.teams))
        return {p: name for p, name in pairs if name}

    def audiences(self) -> list[str]:
        """One delivery audience per platform the channel is named on."""
        return [Delivery.to_channel(name, platform) for platform, name in self.named().items()]


class SessionSeries(_Strict):
    """A recurring stat session: which units meet (in turn, when several share the
    slot), how often, when, who chairs and who attends."""

    name: str = Field(min_length=1, max_length=40)
    units: tuple[str, ...] = Field(min_length=1)
    every_weeks: int = Field(default=2, ge=1, le=12)
    day: Weekday = "tuesday"
    time: dt.time = dt.time(10, 0)
    minutes: int = Field(default=60, ge=15, le=240)
    # Default: the organisation's zone.
    timezone: str | None = None
    chair: str
    attendees: tuple[str, ...] = ()
    # The first meeting's date (its weekday should be ``day``); default: a fixed Monday.
    starting: dt.date | None = None
    # The brief goes out this many working hours before the meeting (hours of working
    # days: 48 before a Tuesday 10:00 is the Friday before, 10:00); its draft opens to
    # the analysts and the chair 24 working hours before that.
    brief_hours: int = Field(default=48, ge=0, le=240)

    _time = field_validator("time", mode="before")(_check_time)

    @field_validator("chair")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("attendees")
    @classmethod
    def _lower_all(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class Organisation(_Strict):
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    holidays: Holidays | None = None
    working_hours: WorkingHours = WorkingHours()
    leadership_channel: LeadershipChannel | None = None
    digest: DigestSchedule = DigestSchedule()
    data_check: DataCheck = DataCheck()
    reminders: Reminders = Reminders()
    # Written by `org apply` from the file's top-level ``sessions:`` section.
    sessions: tuple[SessionSeries, ...] = ()

    _tz = field_validator("timezone")(_check_timezone)

    def leadership_audiences(self) -> list[str]:
        return self.leadership_channel.audiences() if self.leadership_channel else []


class PersonEntry(_Strict):
    email: str
    name: str = Field(min_length=1)
    roles: tuple[Literal["admin", "leader", "analyst"], ...] = ()
    timezone: str | None = None
    slack_id: str | None = None
    teams_id: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip().lower()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class MetricEntry(_Strict):
    key: str
    name: str = Field(min_length=1)
    measure: Literal["count", "days", "percent", "dollars", "hours", "number"]
    target: float
    direction: Literal["higher", "lower"]
    range: tuple[float, float] | None = None
    # How far on the wrong side of the target a value is still amber, in the measure.
    amber: float = Field(default=0.0, ge=0)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be lower case letters, digits, - or _, starting with a letter")
        return value

    @model_validator(mode="after")
    def _range(self) -> MetricEntry:
        # The default comes first so a percent target of 125 is refused like any other.
        if self.measure == "percent" and self.range is None:
            object.__setattr__(self, "range", (0.0, 100.0))
        if self.range is not None:
            low, high = self.range
            if low >= high:
                raise ValueError("range must be [lowest, highest] with lowest < highest")
            if not low <= self.target <= high:
                raise ValueError(f"target {self.target:g} is outside the range [{low:g}, {high:g}]")
        return self


class CheckinSchedule(_Strict):
    day: Weekday = "thursday"
    time: dt.time = dt.time(9, 0)
    deadline_day: Weekday = "friday"
    deadline_time: dt.time = dt.time(16, 0)

    _times = field_validator("time", "deadline_time", mode="before")(_check_time)


class UnitEntry(_Strict):
    key: str
    name: str = Field(min_length=1)
    head: str
    deputy: str | None = None
    leader: str
    timezone: str | None = None
    restricted: bool = False
    checkin: CheckinSchedule = CheckinSchedule()
    escalation_policy: str | None = None
    # At most 20: the weekly form must fit every platform (a Slack modal takes 100 blocks).
    metrics: tuple[MetricEntry, ...] = Field(min_length=1, max_length=20)

    _key_check = field_validator("key")(MetricEntry._key.__func__)  # type: ignore[attr-defined]

    @field_validator("head", "deputy", "leader")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class OrgFile(_Strict):
    organisation: Organisation
    people: tuple[PersonEntry, ...] = Field(min_length=1)
    units: tuple[UnitEntry, ...] = Field(min_length=1)
    escalation_policies: tuple[Policy, ...] = ()
    sessions: tuple[SessionSeries, ...] = ()

    def person(self, email: str) -> PersonEntry:
        return next(p for p in self.people if p.email == email)


# --- loading and validation --------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "extra_forbidden": "is not a known field",
    "too_short": "must not be empty",
}


_BOUNDS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def place(loc: Sequence[str | int]) -> str:
    """``('units', 2, 'metrics', 0, 'target')`` → ``units[2].metrics[0].target``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "literal_error":
        return f"must be one of: {error.get('ctx', {}).get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    bound = _BOUNDS.get(kind)
    if bound is not None:
        word, name = bound
        limit = error.get("ctx", {}).get(name, "")
        return f"must be {word} {limit:g}" if isinstance(limit, float) else f"must be {word} {limit}"
    if kind == "too_long":
        return f"must have at most {error.get('ctx', {}).get('max_length')} entries"
    if kind == "too_short" and error.get("ctx", {}).get("min_length", 0) <= 1:
        return "must not be empty"
    return _MESSAGES.get(kind, str(error["msg"]))


def _loc(error: Mapping[str, Any]) -> tuple[str | int, ...]:
    # Drop pydantic's union/function tags (like "function-after[...]") from locations.
    return tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))


def parse_org(text: str, source: str = "org file") -> OrgFile:
    """Validate org-file text; raises OrgFileError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except RecursionError:
        raise OrgFileError([f"{source}: nested too deeply to be an org file"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise OrgFileError([f"{source}{where}: not valid YAML ({problem})"]) from None
    if not isinstance(raw, dict):
        raise OrgFileError([f"{source}: must be a mapping with organisation, people and units"])
    problems: list[str] = []
    org: OrgFile | None = None
    try:
        org = OrgFile.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        locs = [_loc(e) for e in errors]
        for error, loc in zip(errors, locs, strict=True):
            # A list whose items failed is also reported "too short"; only the items count.
            if error["type"] == "too_short" and any(
                other[: len(loc)] == loc and len(other) > len(loc) for other in locs
            ):
                continue
            problems.append(f"{place(loc)}: {_describe(error)}")
    problems.extend(_cross_references(raw))
    if problems or org is None:
        raise OrgFileError(_unique(problems))
    return org


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _entries(raw: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    value = raw.get(key)
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                yield index, entry


def _text(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _cross_references(raw: Mapping[str, Any]) -> Iterator[str]:
    emails: dict[str, int] = {}
    for index, person in _entries(raw, "people"):
        email = _text(person.get("email"))
        if email is None:
            continue
        if email in emails:
            yield f"people[{index}].email: {email} is already people[{emails[email]}]"
        else:
            emails[email] = index
    policies = {
        p.get("name") for _, p in _entries(raw, "escalation_policies") if isinstance(p.get("name"), str)
    }
    unit_keys: dict[str, int] = {}
    for index, unit in _entries(raw, "units"):
        key = unit.get("key")
        if isinstance(key, str):
            if key in unit_keys:
                yield f"units[{index}].key: {key!r} is already units[{unit_keys[key]}]"
            else:
                unit_keys[key] = index
        for role in ("head", "deputy", "leader"):
            email = _text(unit.get(role))
            if email is not None and emails and email not in emails:
                yield f"units[{index}].{role}: {email or repr(email)} is not one of the people"
        deputy = _text(unit.get("deputy"))
        if deputy is not None and deputy == _text(unit.get("head")):
            yield f"units[{index}].deputy: the deputy must not be the head"
        policy = unit.get("escalation_policy")
        if isinstance(policy, str) and policy not in policies:
            yield f"units[{index}].escalation_policy: no policy named {policy!r}"
        metric_keys: dict[str, int] = {}
        for m_index, metric in _entries(unit, "metrics"):
            m_key = metric.get("key")
            if isinstance(m_key, str):
                if m_key in metric_keys:
                    yield (
                        f"units[{index}].metrics[{m_index}].key: {m_key!r} is already "
                        f"units[{index}].metrics[{metric_keys[m_key]}]"
                    )
                else:
                    metric_keys[m_key] = m_index
    organisation = raw.get("organisation")
    if isinstance(organisation, dict):
        digest = organisation.get("digest")
        if isinstance(digest, dict) and isinstance(digest.get("audience"), list):
            for a_index, entry in enumerate(digest["audience"]):
                email = _text(entry)
                if email is not None and emails and email not in emails:
                    yield (
                        f"organisation.digest.audience[{a_index}]: {email or repr(email)} "
                        "is not one of the people"
                    )
    if isinstance(organisation, dict) and "sessions" in organisation:
        yield "organisation.sessions: sessions is a section of its own, beside organisation and units"
    yield from _session_references(raw, emails, unit_keys)
    seen_policies: set[str] = set()
    for index, policy_entry in _entries(raw, "escalation_policies"):
        name = policy_entry.get("name")
        if isinstance(name, str):
            if name in seen_policies:
                yield f"escalation_policies[{index}].name: {name!r} is defined twice"
            seen_policies.add(name)


def _session_references(
    raw: Mapping[str, Any], emails: Mapping[str, int], unit_keys: Mapping[str, int]
) -> Iterator[str]:
    leaders = {
        _text(p.get("email"))
        for _, p in _entries(raw, "people")
        if isinstance(p.get("roles"), list)
        and {"leader", "admin"} & {r for r in p["roles"] if isinstance(r, str)}
    }
    names: dict[str, int] = {}
    for index, series in _entries(raw, "sessions"):
        name = series.get("name")
        if isinstance(name, str):
            if name in names:
                yield f"sessions[{index}].name: {name!r} is already sessions[{names[name]}]"
            names[name] = index
        units = series.get("units")
        for u_index, key in enumerate(units if isinstance(units, list) else []):
            if isinstance(key, str) and unit_keys and key not in unit_keys:
                yield f"sessions[{index}].units[{u_index}]: no unit has the key {key!r}"
        chair = _text(series.get("chair"))
        if chair is not None and emails:
            if chair not in emails:
                yield f"sessions[{index}].chair: {chair or repr(chair)} is not one of the people"
            elif chair not in leaders:
                yield f"sessions[{index}].chair: {chair} chairs a session, so must be a leader or an admin"
        attendees = series.get("attendees")
        for a_index, entry in enumerate(attendees if isinstance(attendees, list) else []):
            email = _text(entry)
            if email is not None and emails and email not in emails:
                yield (
                    f"sessions[{index}].attendees[{a_index}]: {email or repr(email)} is not one of the people"
                )


def load_org(path: str) -> OrgFile:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise OrgFileError([f"{path}: cannot read ({exc.strerror})"]) from None
    return parse_org(text, source=path)


def weekday_number(day: str) -> int:
    return WEEKDAYS.index(day) + 1
