"""The digest's domain types: what a built digest holds, and what a digest record keeps.

Everything here is facts (values, streaks, days, who was asked); bot/digests/cards.py
writes every word.  A posted digest is stored as JSON and read back when a leader asks
for it later, so a digest posted by an older version must still validate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.messages import Status

ReportState = Literal["on_time", "late", "missing", "excused"]
Severity = Literal["high", "medium", "low"]
ExceptionKind = Literal[
    "off_target_streak",
    "big_move",
    "confirmed_outlier",
    "overdue_commitment",
    "quiet_commitment",
    "due_this_week",
    "unanswered_followup",
    "open_escalation",
]
# The order, which also breaks ties between equally severe items.
KIND_ORDER: tuple[ExceptionKind, ...] = (
    "off_target_streak",
    "big_move",
    "confirmed_outlier",
    "overdue_commitment",
    "quiet_commitment",
    "due_this_week",
    "unanswered_followup",
    "open_escalation",
)
Outcome = Literal["kept", "kept_late", "dropped", "not_kept"]
# The digest's audience in the digests table: one digest per week for leadership.
AUDIENCE = "leadership"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonRef(_Model):
    email: str
    name: str


class UnreachablePerson(_Model):
    email: str
    name: str
    reason: str


class ReportingEntry(_Model):
    unit_key: str
    unit_name: str
    state: ReportState
    head: PersonRef | None = None
    submitted_by: PersonRef | None = None
    submitted_at: dt.datetime | None = None
    excuse: str | None = None
    # A missed check-in's running escalation (its Acknowledge button lives here: the
    # missed check-in is listed once, in "Who reported").
    escalation_id: int | None = None
    messages_sent: int = 0


class TargetChangeFacts(_Model):
    """A metric's target changed within the digest's window: the weeks from ``week`` on
    are judged by ``after``, the weeks before by ``before``."""

    before: float
    after: float
    week: str
    # The day it was changed, in the organisation's zone.
    on: dt.date
    # The metric's measure, to write the two targets in it.
    measure: str = "number"


class MetricLine(_Model):
    metric_key: str
    name: str
    value: float | None
    value_text: str
    target_text: str
    status: Status
    change: float | None = None
    # The change's arrow and size ("▲ 30"); empty when there was none (digests stored by
    # earlier versions say "no change" here).
    change_text: str = ""
    # True when the change went against the metric's direction.
    change_bad: bool = False
    sparkline: tuple[float | None, ...] = ()
    off_target_weeks: int = 0
    note: str = ""
    confirmed_outlier: bool = False
    # The metric's target changes within the window, oldest first.
    target_changes: tuple[TargetChangeFacts, ...] = ()


class UnitScore(_Model):
    unit_key: str
    unit_name: str
    status: Status
    reported: ReportState
    reds: int
    ambers: int
    head: PersonRef | None = None
    metrics: tuple[MetricLine, ...] = ()


# --- the facts of an exception, one shape per family of kinds -------------------------


class MetricRef(_Model):
    """Enough of a metric to write its values (measure) and its target."""

    name: str
    measure: str
    direction: str
    target: float


class MetricFacts(_Model):
    """off_target_streak, big_move, confirmed_outlier."""

    type: Literal["metric"] = "metric"
    metric: MetricRef
    value: float | None
    # Last week's value (a big move; a streak that got worse).
    before: float | None = None
    # Weeks off target running, up to this week; ``whole_window`` when that is every week
    # loaded (it may have started earlier).
    streak: int = 0
    whole_window: bool = False
    # The value moved against the metric's direction since last week.
    worse: bool = False
    # The unit head's explanation of the value.
    note: str = ""
    # The metric's target changes within the window, oldest first.
    target_changes: tuple[TargetChangeFacts, ...] = ()


class CommitmentFacts(_Model):
    """overdue_commitment (``days`` past due), quiet_commitment (``days`` since the last
    update), due_this_week."""

    type: Literal["commitment"] = "commitment"
    commitment_id: int
    title: str
    due_on: dt.date
    days: int = 0


class FollowupFacts(_Model):
    """unanswered_followup: a leader's question the unit head has not answered."""

    type: Literal["followup"] = "followup"
    question: str
    due_on: dt.date
    asked_by: PersonRef | None
    # Past its due date.
    late: bool


class EscalationFacts(_Model):
    """open_escalation: a chain that is running (or snoozed) on an item not listed
    otherwise."""

    type: Literal["escalation"] = "escalation"
    # The escalation's kind (missed_checkin, overdue_commitment, ...) and subject id.
    about: str
    subject_id: int
    # A missed check-in's week (None when the check-in is not loaded).
    week: str | None = None
    # Days in the organisation's zone.
    since: dt.date
    snoozed_until: dt.date | None = None
    messages_sent: int = 0


class WrittenFacts(_Model):
    """An item of a digest posted before items carried facts: its text as written then."""

    type: Literal["written"] = "written"
    text: str


ItemFacts = Annotated[
    MetricFacts | CommitmentFacts | FollowupFacts | EscalationFacts | WrittenFacts,
    Field(discriminator="type"),
]


class PromiseRef(_Model):
    """A promise an answer carried (a commitment tracked from it) and how it stands."""

    commitment_id: int
    text: str
    due_on: dt.date
    # kept / kept_late / dropped / not_kept when due by the digest's day, else "open".
    outcome: Outcome | Literal["open"]


class History(_Model):
    """The item's history with the leaders: the questions asked about it in the loaded
    window, the last answer and whether its promise was kept."""

    asked: int
    since_week: str
    last_answer: str | None = None
    last_answer_week: str | None = None
    promise: PromiseRef | None = None


class ExceptionItem(_Model):
    kind: ExceptionKind
    severity: Severity
    unit_key: str
    unit_name: str
    facts: ItemFacts
    owner: PersonRef | None = None
    metric_key: str | None = None
    commitment_id: int | None = None
    escalation_id: int | None = None
    checkin_id: int | None = None
    history: History | None = None

    @model_validator(mode="before")
    @classmethod
    def _written(cls, data: Any) -> Any:
        # Stored digests of older versions carry the item's text instead of its facts.
        if isinstance(data, dict) and "text" in data and "facts" not in data:
            data = dict(data)
            data["facts"] = {"type": "written", "text": data.pop("text")}
        return data

    def keys(self) -> list[str]:
        """What a leader action on this item refers to (see cadence.action_keys)."""
        out: list[str] = []
        if self.commitment_id is not None:
            out.append(f"commitment:{self.commitment_id}")
        if self.escalation_id is not None:
            out.append(f"escalation:{self.escalation_id}")
        if self.checkin_id is not None:
            out.append(f"checkin:{self.checkin_id}")
        if self.metric_key is not None:
            out.append(f"metric:{self.unit_key}/{self.metric_key}")
        return out


class PromiseItem(_Model):
    commitment_id: int
    unit_key: str
    unit_name: str
    text: str
    owner: PersonRef | None
    due_on: dt.date
    outcome: Outcome
    closed_on: dt.date | None = None


class CadenceHealth(_Model):
    weeks: tuple[str, ...]
    checkins_due: int
    checkins_on_time: int
    followups_asked: int
    followups_answered: int
    followups_waiting: int
    leader_actions: int
    # What the previous digest flagged and how many of those got a leader action since;
    # None when there was no previous digest.
    flagged_last_week: int | None = None
    flagged_acted_on: int | None = None
    # Stat sessions of the window (restricted units left out): scheduled, held, cancelled,
    # and of the held ones how many memos went out within two working days.
    sessions_scheduled: int = 0
    sessions_held: int = 0
    sessions_cancelled: int = 0
    memos_on_time: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.checkins_on_time / self.checkins_due if self.checkins_due else None

    @property
    def answered_share(self) -> float | None:
        return self.followups_answered / self.followups_asked if self.followups_asked else None


class ChartSeries(_Model):
    unit_key: str
    unit_name: str
    metric_key: str
    metric_name: str
    measure: str
    direction: str
    target: float
    amber: float
    weeks: tuple[str, ...]
    values: tuple[float | None, ...]
    status: Status
    off_target_weeks: int
    # The target each week of ``weeks`` was judged by, when it changed within them
    # (empty: ``target`` throughout, as in digests stored before targets had a history).
    targets: tuple[float, ...] = ()


class Digest(_Model):
    week: str
    starts_on: dt.date
    ends_on: dt.date
    built_at: dt.datetime
    organisation: str
    reporting: tuple[ReportingEntry, ...]
    scorecard: tuple[UnitScore, ...]
    exceptions: tuple[ExceptionItem, ...]
    # unit key → exception kind → how many (all of them, also those not listed).
    exception_counts: dict[str, dict[str, int]]
    promises: tuple[PromiseItem, ...]
    cadence: CadenceHealth
    charts: tuple[ChartSeries, ...]
    restricted_units: tuple[str, ...] = ()
    # The organisation's zone: every time the digest shows is in it.
    timezone: str = "UTC"
    # Why nothing was due this week, when nothing was: "no_units" (no unit existed by the
    # week's end), "not_asked" (the units were set up after the week's check-ins opened),
    # "all_excused".  None when some check-in was due.
    nothing_due: Literal["no_units", "not_asked", "all_excused"] | None = None
    # The day the first unit was set up ("not_asked").
    units_since: dt.date | None = None
    # People the bot cannot reach on its platform: their prompts and escalations go nowhere.
    unreachable: tuple[UnreachablePerson, ...] = ()

    def count(self, kind: ExceptionKind) -> int:
        return sum(kinds.get(kind, 0) for kinds in self.exception_counts.values())

    @property
    def total_exceptions(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.exception_counts.values())

    def flagged_keys(self) -> list[list[str]]:
        return [item.keys() for item in self.exceptions]


def without_units(digest: Digest, hidden: Iterable[str]) -> Digest:
    """The digest minus everything about the ``hidden`` units (restricted units for
    people, or a channel, that may not see them).  The cadence figures stay: they are
    organisation-wide totals."""
    gone = set(hidden)
    if not gone:
        return digest
    return digest.model_copy(
        update={
            "reporting": tuple(r for r in digest.reporting if r.unit_key not in gone),
            "scorecard": tuple(u for u in digest.scorecard if u.unit_key not in gone),
            "exceptions": tuple(e for e in digest.exceptions if e.unit_key not in gone),
            "exception_counts": {k: v for k, v in digest.exception_counts.items() if k not in gone},
            "promises": tuple(p for p in digest.promises if p.unit_key not in gone),
            "charts": tuple(c for c in digest.charts if c.unit_key not in gone),
        }
    )


# --- what a digest record keeps ---------------------------------------------------------


class PostedDigest(_Model):
    """The content of a digest record: the digest as posted (so everyone discusses the
    same numbers), what it flagged (next week's cadence asks whether a leader acted on
    it) and its chart refs; or why nothing was posted for that week."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    digest: Digest | None = None
    flagged: tuple[tuple[str, ...], ...] = ()
    charts: tuple[str, ...] = ()
    skipped: str | None = None

    @classmethod
    def of(cls, digest: Digest, charts: Iterable[str]) -> PostedDigest:
        return cls(digest=digest, flagged=tuple(map(tuple, digest.flagged_keys())), charts=tuple(charts))

    @classmethod
    def skip(cls, reason: str) -> PostedDigest:
        return cls(skipped=reason)

    def to_content(self) -> dict[str, Any]:
        """The stored JSON (the shape the digests table has always held)."""
        if self.skipped is not None:
            return {"skipped": self.skipped}
        return {
            "digest": None if self.digest is None else self.digest.model_dump(mode="json"),
            "flagged": [list(keys) for keys in self.flagged],
            "charts": list(self.charts),
        }

    @staticmethod
    def flagged_in(content: object) -> list[list[str]]:
        """Only what a stored record flagged, without validating its whole digest (the
        digest loader reads last week's record on every build)."""
        if not isinstance(content, dict):
            return []
        flagged = content.get("flagged", [])
        if not isinstance(flagged, list):
            return []
        return [list(map(str, keys)) for keys in flagged if isinstance(keys, list)]


@dataclass(slots=True)
class DigestRecord:
    """A built digest: one per audience and week.  ``content`` is the stored JSON; read
    and write it through ``posted`` / ``DigestRecord.of`` (a PostedDigest)."""

    audience: str
    week: str
    built_at: dt.datetime
    content: dict[str, Any] = field(default_factory=dict)
    posted_at: dt.datetime | None = None
    id: int | None = None

    @classmethod
    def of(
        cls,
        audience: str,
        week: str,
        built_at: dt.datetime,
        posted: PostedDigest,
        *,
        posted_at: dt.datetime | None = None,
    ) -> DigestRecord:
        return cls(
            audience=audience, week=week, built_at=built_at, content=posted.to_content(), posted_at=posted_at
        )

    @property
    def posted(self) -> PostedDigest:
        return PostedDigest.model_validate(self.content)

    @property
    def skipped(self) -> bool:
        return self.content.get("skipped") is not None
