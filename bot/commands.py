"""The ``/stat`` grammar, shared by Slack, Teams and the console.

``parse_command`` turns what someone typed into one of the command dataclasses below.  It
returns ``None`` when the first word is no command word, so a direct message can be read as
a check-in answer instead, and raises ``CommandError`` (message + usage) when a command's
arguments are malformed.  No other exception escapes for any ``str`` input.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from bot.parsing import parse_date, quote, weekday_number
from bot.weeks import parse_week

__all__ = [
    "USAGE",
    "Ask",
    "Away",
    "BriefAdd",
    "BriefDrop",
    "BriefShow",
    "Command",
    "CommandError",
    "Commit",
    "Commitments",
    "Decide",
    "Digest",
    "Done",
    "Help",
    "Home",
    "Ledger",
    "Memo",
    "Note",
    "Overdue",
    "Promise",
    "Provide",
    "Report",
    "Request",
    "SessionCancel",
    "SessionChair",
    "SessionClose",
    "SessionSchedule",
    "Sessions",
    "Status",
    "Update",
    "help_text",
    "parse_command",
]

COMMIT_TEXT_MAX = 500
NOTE_MAX = 2000


@dataclass(frozen=True)
class Help:
    topic: str | None


@dataclass(frozen=True)
class Report:
    pass


@dataclass(frozen=True)
class Home:
    pass


@dataclass(frozen=True)
class Status:
    unit: str | None


@dataclass(frozen=True)
class Commitments:
    # A unit, an @mention or an email, as typed; the caller resolves it.
    target: str | None


@dataclass(frozen=True)
class Overdue:
    pass


@dataclass(frozen=True)
class Commit:
    text: str
    due: dt.date


@dataclass(frozen=True)
class Done:
    id: int


@dataclass(frozen=True)
class Update:
    id: int
    note: str


@dataclass(frozen=True)
class Away:
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Digest:
    week: str | None


@dataclass(frozen=True)
class Ask:
    unit: str
    question: str


@dataclass(frozen=True)
class Sessions:
    pass


@dataclass(frozen=True)
class SessionSchedule:
    unit: str
    day: dt.date
    time: dt.time


@dataclass(frozen=True)
class SessionCancel:
    id: int
    reason: str


@dataclass(frozen=True)
class SessionChair:
    id: int
    person: str


@dataclass(frozen=True)
class SessionClose:
    pass


@dataclass(frozen=True)
class Promise:
    # The promise's owner as typed (@email), its text and its date.
    owner: str
    text: str
    due: dt.date


@dataclass(frozen=True)
class Decide:
    text: str


@dataclass(frozen=True)
class Request:
    text: str
    # None: by the next session.
    due: dt.date | None


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Provide:
    id: int
    answer: str


@dataclass(frozen=True)
class Memo:
    id: int
    # A line the chair adds to the draft; None: show the memo.
    add: str | None = None


@dataclass(frozen=True)
class Ledger:
    # A leader's e-mail (analysts), or None: one's own (leaders) or every leader's.
    leader: str | None


@dataclass(frozen=True)
class BriefShow:
    id: int


@dataclass(frozen=True)
class BriefAdd:
    id: int
    text: str


@dataclass(frozen=True)
class BriefDrop:
    id: int
    item: int


Command: TypeAlias = (
    Help
    | Report
    | Home
    | Status
    | Commitments
    | Overdue
    | Commit
    | Done
    | Update
    | Away
    | Digest
    | Ask
    | Sessions
    | SessionSchedule
    | SessionCancel
    | SessionChair
    | SessionClose
    | Promise
    | Decide
    | Request
    | Note
    | Provide
    | Memo
    | Ledger
    | BriefShow
    | BriefAdd
    | BriefDrop
)


class CommandError(ValueError):
    """A known command with malformed arguments; ``message`` is fit to show the user."""

    def __init__(self, message: str, command: str | None, *, final: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        # The text is surely this command (e.g. "away" with dates the wrong way round):
        # it must not be read as a check-in answer instead.
        self.final = final


@dataclass(frozen=True)
class _Spec:
    syntax: str
    description: str
    example: str


_SPECS: dict[str, _Spec] = {
    "help": _Spec("help [command]", "Lists the commands, or explains one.", "help commit"),
    "report": _Spec("report", "Opens this week's check-in form for your unit.", "report"),
    "home": _Spec(
        "home",
        "Shows your home: open check-ins, your commitments and, for leaders, the latest digest.",
        "home",
    ),
    "status": _Spec(
        "status [unit]", "Shows this week's check-ins and numbers, for one unit or all.", "status"
    ),
    "commitments": _Spec(
        "commitments [unit|@person|email]",
        "Lists open commitments: yours, a unit's or a person's.",
        "commitments @maria",
    ),
    "overdue": _Spec("overdue", "Lists the commitments past their due date.", "overdue"),
    "commit": _Spec(
        "commit <text> by <date>",
        "Records a commitment you make, with its due date.",
        "commit Fix the hotline by Friday",
    ),
    "done": _Spec("done <id>", "Marks a commitment done.", "done 12"),
    "update": _Spec(
        "update <id> <note>",
        "Adds a progress note to a commitment.",
        "update 12 Vendor called back",
    ),
    "away": _Spec(
        "away <from> <to>",
        "Tells the bot you are away (also: away <date>, away until <date>); your deputy is asked meanwhile.",
        "away Dec 22 Jan 2",
    ),
    "digest": _Spec(
        "digest [week]",
        "Shows the leadership digest for a week (default: latest).",
        "digest 2026-W48",
    ),
    "ask": _Spec(
        "ask <unit> <question>",
        'Sends a follow-up question to a unit head (quote unit names with spaces: "Public Works").',
        "ask sanitation Why did missed pickups double?",
    ),
    "session": _Spec(
        "session [<unit> <date> <time> | cancel <id> <reason> | chair <id> <email>]",
        "Lists the upcoming stat sessions; schedules one, cancels one (say why) or hands its chair over.",
        "session sanitation Dec 17 10:00",
    ),
    "promise": _Spec(
        "promise @<email> <text> by <date>",
        "In a session under way (chair or analyst): records a promise, tracked as a commitment.",
        "promise @robert.hayes@riverton.gov Clear the bulk-item backlog by Dec 18",
    ),
    "decide": _Spec(
        "decide <text>", "In a session under way: records a decision.", "decide Two trucks move to Route 7"
    ),
    "request": _Spec(
        "request <data> by next session|<date>",
        "In a session under way: asks the unit for data, tracked until it is provided.",
        "request Overtime hours by route by next session",
    ),
    "note": _Spec(
        "note <text>", "In a session under way: adds a note to its record.", "note Head asks for a mechanic"
    ),
    "provide": _Spec(
        "provide <request id> <data or link>",
        "Answers a session's request for data with the data or a link to it.",
        "provide 3 https://data.riverton.gov/overtime.xlsx",
    ),
    "memo": _Spec(
        "memo <session id> [add <text>]",
        "Shows a session's follow-up memo; the chair adds a line to the draft, then approves it.",
        "memo 4",
    ),
    "ledger": _Spec(
        "ledger [@email]",
        "A leader's follow-through over 4 and 12 weeks: sessions, memos, escalations, questions.",
        "ledger @luis.ortega@riverton.gov",
    ),
    "brief": _Spec(
        "brief <session id>, brief add <session id> <text>, brief drop <session id> <item number>",
        "Shows a stat session's brief; before it is sent, adds a question to it or drops an item.",
        "brief drop 12 3",
    ),
}

USAGE: dict[str, str] = {name: f"{spec.syntax} — {spec.description}" for name, spec in _SPECS.items()}


def help_text(topic: str | None = None) -> str:
    """Every command with its usage, or one command's usage and an example."""
    listing = "\n".join(f"• {USAGE[name]}" for name in _SPECS)
    intro = "Type these after /stat, or on their own in a direct message with me:"
    if topic is None or not topic.strip():
        return f"{intro}\n{listing}"
    name = topic.strip().lower().removeprefix("/stat").strip()
    if name in _SPECS:
        spec = _SPECS[name]
        return f"{USAGE[name]}\nExample: {spec.example}"
    return f"I don't know a command called {quote(topic)}. {intro}\n{listing}"


_PREFIX = re.compile(r"/stat(?:\s+|$)", re.IGNORECASE)
_ID = re.compile(r"#?([0-9]{1,18})", re.ASCII)
_BY = re.compile(r"\s+by\s+", re.IGNORECASE)
# Words people put between two dates; a bare "-" only with spaces, as ISO dates contain it.
_RANGE = re.compile(r"\s+(?:to|until|till|through|thru|-|–|—)\s+", re.IGNORECASE)
_UNTIL = re.compile(r"(?:until|till|til|through|thru)\s+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”']([^\"“”']+)[\"“”']\s*(.*)", re.DOTALL)


def parse_command(text: str, *, today: dt.date) -> Command | None:
    """Parse one command; ``today`` is the speaker's local date, for relative dates."""
    body = text.strip()
    if prefix := _PREFIX.match(body):
        body = body[prefix.end() :]
    if not body:
        return Help(None)
    word, *rest_parts = body.split(maxsplit=1)
    rest = rest_parts[0] if rest_parts else ""
    # "help?" and "status." are still commands; trailing punctuation is how people type.
    name = word.lower().rstrip("?!.:")
    if name not in _SPECS:
        return None
    try:
        return _PARSERS[name](rest.strip(), today)
    except CommandError as error:
        # A check-in answer always holds a number: without one this was the command.
        if not re.search(r"[0-9]", rest, re.ASCII):
            error.final = True
        raise


# Words no metric begins with: a malformed one is that command, never a check-in answer.
_NEVER_AN_ANSWER = frozenset(
    {
        "help",
        "away",
        "done",
        "update",
        "commit",
        "ask",
        "session",
        "promise",
        "decide",
        "request",
        "note",
        "provide",
        "brief",
    }
)


def _fail(name: str, problem: str) -> CommandError:
    spec = _SPECS[name]
    message = f'{problem.rstrip(".")}: {spec.syntax}, e.g. "{spec.example}"'
    return CommandError(message, name, final=name in _NEVER_AN_ANSWER)


def _no_arguments(name: str, rest: str) -> None:
    if rest:
        raise _fail(name, f"{name} takes nothing after it, but got {quote(rest)}")


def _help(rest: str, today: dt.date) -> Command:
    return Help(rest.lower() or None)


def _report(rest: str, today: dt.date) -> Command:
    _no_arguments("report", rest)
    return Report()


def _home(rest: str, today: dt.date) -> Command:
    _no_arguments("home", rest)
    return Home()


def _status(rest: str, today: dt.date) -> Command:
    return Status(rest or None)


def _commitments(rest: str, today: dt.date) -> Command:
    return Commitments(rest or None)


def _overdue(rest: str, today: dt.date) -> Command:
    _no_arguments("overdue", rest)
    return Overdue()


def _commit(rest: str, today: dt.date) -> Command:
    if not rest:
        raise _fail("commit", "commit needs what you promise and a due date")
    splits = list(_BY.finditer(rest))
    if not splits:
        raise _fail("commit", "commit needs a due date")
    last = splits[-1]
    what, when = rest[: last.start()].strip(), rest[last.end() :].strip()
    if not what:
        raise _fail("commit", "commit needs what you promise before “by”")
    if len(what) > COMMIT_TEXT_MAX:
        raise _fail(
            "commit",
            f"the commitment is {len(what)} characters long; keep it under {COMMIT_TEXT_MAX}",
        )
    try:
        due = parse_date(when, today=today)
    except ValueError as error:
        raise _fail("commit", f"due date {error}") from None
    return Commit(text=what, due=due)


def _parse_id(name: str, text: str, *, what: str = "commitment number") -> int:
    match = _ID.fullmatch(text)
    if not match:
        raise _fail(name, f"{quote(text)} is not a {what}")
    number = int(match.group(1))
    if number == 0:
        raise _fail(name, f"{what}s start at 1")
    return number


def _done(rest: str, today: dt.date) -> Command:
    if not rest:
        raise _fail("done", "done needs the commitment number")
    return Done(id=_parse_id("done", rest))


def _update(rest: str, today: dt.date) -> Command:
    parts = rest.split(maxsplit=1)
    if not parts:
        raise _fail("update", "update needs the commitment number and a note")
    number = _parse_id("update", parts[0])
    note = parts[1].strip() if len(parts) > 1 else ""
    if not note:
        raise _fail("update", "update needs a note after the commitment number")
    if len(note) > NOTE_MAX:
        raise _fail("update", f"the note is {len(note)} characters long; keep it under {NOTE_MAX}")
    return Update(id=number, note=note)


def _away(rest: str, today: dt.date) -> Command:
    if not rest:
        raise _fail("away", "away needs the dates you are away")
    body = re.sub(r"^from\s+", "", rest, flags=re.IGNORECASE)
    if until := _UNTIL.match(body):
        start, end = today, _away_date(body[until.end() :], today)
    elif len(ranges := list(_RANGE.finditer(body))) == 1:
        start = _away_date(body[: ranges[0].start()], today)
        end = _end_date(body[ranges[0].end() :], start, today)
    else:
        start, end = _away_dates(body, today)
    if end < start:
        raise _fail(
            "away",
            f"the end ({end:%a %d %b %Y}) is before the start ({start:%a %d %b %Y}); "
            "give the first day, then the last",
        )
    return Away(start=start, end=end)


def _away_date(text: str, today: dt.date) -> dt.date:
    try:
        return parse_date(text, today=today)
    except ValueError as error:
        raise _fail("away", str(error)) from None


def _end_date(text: str, start: dt.date, today: dt.date) -> dt.date:
    """The end of an away period; a bare weekday counts from the start.

    "away mon fri" said on a Wednesday means next Monday to the Friday after it, not this
    Friday.  Other ends are read from today, so "away Jan 2 Dec 22" is refused rather than
    read as a year away.
    """
    weekday = weekday_number(text)
    if weekday is None:
        return _away_date(text, today)
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def _away_dates(body: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """One date, or two dates side by side; each may be several words ("Dec 22 Jan 2")."""
    try:
        day = parse_date(body, today=today)
    except ValueError as error:
        whole_error = error
    else:
        return day, day
    words = body.split()
    readings: set[tuple[dt.date, dt.date]] = set()
    for cut in range(1, len(words)):
        try:
            start = parse_date(" ".join(words[:cut]), today=today)
            end = _end_date(" ".join(words[cut:]), start, today)
        except ValueError:
            continue
        readings.add((start, end))
    if len(readings) == 1:
        return readings.pop()
    if readings:
        raise _fail("away", f"{quote(body)} can be read more than one way; put “to” between the dates")
    if len(words) > 1:
        raise _fail("away", f"I can't read {quote(body)} as dates; put “to” between the dates")
    raise _fail("away", str(whole_error))


def _digest(rest: str, today: dt.date) -> Command:
    if not rest:
        return Digest(None)
    try:
        return Digest(parse_week(rest))
    except ValueError as error:
        raise _fail("digest", str(error)) from None


def _ask(rest: str, today: dt.date) -> Command:
    if quoted := _QUOTED.fullmatch(rest):
        unit, question = quoted.group(1).strip(), quoted.group(2).strip()
    else:
        parts = rest.split(maxsplit=1)
        unit = parts[0] if parts else ""
        question = parts[1].strip() if len(parts) > 1 else ""
    if not unit:
        raise _fail("ask", "ask needs a unit and a question")
    if not question:
        raise _fail("ask", f"ask needs a question after the unit {quote(unit)}")
    if len(question) > NOTE_MAX:
        raise _fail("ask", f"the question is {len(question)} characters long; keep it under {NOTE_MAX}")
    return Ask(unit=unit, question=question)


_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE | re.ASCII)


def _parse_time(text: str) -> dt.time | None:
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = (match.group(3) or "").lower().replace(".", "")
    if half and not 1 <= hour <= 12:
        return None
    if half == "pm" and hour != 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    if not half and match.group(2) is None:
        return None  # a bare number is a day, not a time: "10" needs ":00" or "am"
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _session(rest: str, today: dt.date) -> Command:
    if not rest:
        return Sessions()
    word, _, tail = rest.partition(" ")
    tail = tail.strip()
    if word.lower() == "close":
        _no_arguments("session", tail)
        return SessionClose()
    if word.lower() == "cancel":
        number_text, _, reason = tail.partition(" ")
        if not number_text:
            raise _fail("session", "session cancel needs the session number and the reason")
        number = _parse_id("session", number_text, what="session number")
        if not reason.strip():
            raise _fail("session", f"say why session #{number} is cancelled, after its number")
        if len(reason) > NOTE_MAX:
            raise _fail("session", f"the reason is {len(reason)} characters long; keep it under {NOTE_MAX}")
        return SessionCancel(id=number, reason=reason.strip())
    if word.lower() == "chair":
        number_text, _, person = tail.partition(" ")
        if not number_text or not person.strip():
            raise _fail("session", "session chair needs the session number and who chairs it instead")
        return SessionChair(
            id=_parse_id("session", number_text, what="session number"), person=person.strip()
        )
    if quoted := _QUOTED.fullmatch(rest):
        unit, when = quoted.group(1).strip(), quoted.group(2).strip()
    else:
        unit, when = word, tail
    words = when.split()
    time = None
    for size in (2, 1):  # "10:00", "10 am"
        if len(words) > size and (time := _parse_time(" ".join(words[-size:]))) is not None:
            words = words[:-size]
            break
    if time is None:
        raise _fail("session", f"give the date and the time of the session about {quote(unit)}")
    try:
        day = parse_date(" ".join(words), today=today)
    except ValueError as error:
        raise _fail("session", f"session date {error}") from None
    return SessionSchedule(unit=unit, day=day, time=time)


def _text_of(name: str, rest: str, what: str) -> str:
    if not rest:
        raise _fail(name, f"{name} needs {what}")
    if len(rest) > NOTE_MAX:
        raise _fail(name, f"the text is {len(rest)} characters long; keep it under {NOTE_MAX}")
    return rest


def _promise(rest: str, today: dt.date) -> Command:
    owner, _, tail = rest.partition(" ")
    if not owner.startswith("@") or "@" not in owner[1:]:
        raise _fail("promise", "promise needs whose promise it is first, as @email")
    commit = _commit(tail.strip(), today) if tail.strip() else None
    if commit is None or not isinstance(commit, Commit):
        raise _fail("promise", "promise needs what is promised and its date")
    return Promise(owner=owner, text=commit.text, due=commit.due)


def _decide(rest: str, today: dt.date) -> Command:
    return Decide(_text_of("decide", rest, "the decision"))


_NEXT_SESSION = re.compile(r"\s+by\s+(?:the\s+)?next\s+(?:session|meeting)\s*$", re.IGNORECASE)


def _request(rest: str, today: dt.date) -> Command:
    text = _text_of("request", rest, "the data asked for")
    if nxt := _NEXT_SESSION.search(text):
        return Request(text=_text_of("request", text[: nxt.start()].strip(), "the data asked for"), due=None)
    splits = list(_BY.finditer(text))
    if splits:
        try:
            due = parse_date(text[splits[-1].end() :], today=today)
        except ValueError:
            pass
        else:
            return Request(text=_text_of("request", text[: splits[-1].start()].strip(), "the data"), due=due)
    return Request(text=text, due=None)


def _note(rest: str, today: dt.date) -> Command:
    return Note(_text_of("note", rest, "the note"))


def _provide(rest: str, today: dt.date) -> Command:
    number_text, _, answer = rest.partition(" ")
    if not number_text:
        raise _fail("provide", "provide needs the request number and the data or a link")
    number = _parse_id("provide", number_text, what="request number")
    if not answer.strip():
        raise _fail("provide", f"provide needs the data or a link after request #{number}")
    return Provide(id=number, answer=_text_of("provide", answer.strip(), "the data"))


def _ledger(rest: str, today: dt.date) -> Command:
    if rest and "@" not in rest:
        raise _fail("ledger", f"name the leader by e-mail, not {quote(rest)}")
    return Ledger(leader=rest or None)


def _memo(rest: str, today: dt.date) -> Command:
    if not rest:
        raise _fail("memo", "memo needs the session number")
    number_text, _, tail = rest.partition(" ")
    number = _parse_id("memo", number_text, what="session number")
    if not tail.strip():
        return Memo(id=number)
    word, _, text = tail.strip().partition(" ")
    if word.lower() != "add" or not text.strip():
        raise _fail("memo", "after the session number, write add and the line to add to its memo")
    return Memo(id=number, add=_text_of("memo", text.strip(), "the line to add"))


def _brief(rest: str, today: dt.date) -> Command:
    # The words the draft card shows come first (brief add 12 <text>); the session
    # number first (brief 12 add <text>) is read the same way.
    first, _, tail = rest.partition(" ")
    if first.lower() in ("add", "drop"):
        number_text, _, argument = tail.strip().partition(" ")
        word = first
        if not number_text:
            raise _fail("brief", f"give the session number after {first.lower()}")
    else:
        number_text = first
        word, _, argument = tail.strip().partition(" ")
    if not number_text:
        raise _fail("brief", "give the session number: brief <session id>")
    number = _parse_id("brief", number_text, what="session number")
    argument = argument.strip()
    match word.lower():
        case "":
            return BriefShow(id=number)
        case "add":
            if not argument:
                raise _fail("brief", f"say what to add to the brief of session #{number}, after add")
            if len(argument) > NOTE_MAX:
                raise _fail("brief", f"that is {len(argument)} characters long; keep it under {NOTE_MAX}")
            return BriefAdd(id=number, text=argument)
        case "drop":
            if not argument:
                raise _fail(
                    "brief", f"say which item of the brief of session #{number} to drop, by its number"
                )
            return BriefDrop(id=number, item=_parse_id("brief", argument, what="item number"))
    raise _fail("brief", f"after the session number, say add <text> or drop <item number>, not {quote(word)}")


_PARSERS: dict[str, Callable[[str, dt.date], Command]] = {
    "help": _help,
    "report": _report,
    "home": _home,
    "status": _status,
    "commitments": _commitments,
    "overdue": _overdue,
    "commit": _commit,
    "done": _done,
    "update": _update,
    "away": _away,
    "digest": _digest,
    "ask": _ask,
    "session": _session,
    "promise": _promise,
    "decide": _decide,
    "request": _request,
    "note": _note,
    "provide": _provide,
    "memo": _memo,
    "ledger": _ledger,
    "brief": _brief,
}
