"""The /stat grammar shared by Slack, Teams and the console."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import (
    USAGE,
    Ask,
    Away,
    Command,
    CommandError,
    Commit,
    Commitments,
    Digest,
    Done,
    Help,
    Overdue,
    Report,
    Status,
    Update,
    help_text,
    parse_command,
)

# A Wednesday.
TODAY = dt.date(2026, 12, 2)
FRIDAY = dt.date(2026, 12, 4)

COMMAND_WORDS = [
    "help", "report", "home", "status", "commitments", "overdue", "commit", "done", "update", "away",
    "digest", "ask", "session", "promise", "decide", "request", "note", "provide", "memo", "brief",
    "ledger",
]  # fmt: skip


def parse(text: str) -> Command | None:
    return parse_command(text, today=TODAY)


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("", Help(None)),
        ("   ", Help(None)),
        ("/stat", Help(None)),
        ("help", Help(None)),
        ("help?", Help(None)),
        ("/stat help commit", Help("commit")),
        ("HELP Commit", Help("commit")),
        ("report", Report()),
        ("/STAT Report", Report()),
        ("status", Status(None)),
        ("status potholes", Status("potholes")),
        ("  status   Public Works  ", Status("Public Works")),
        ("commitments", Commitments(None)),
        ("commitments @maria", Commitments("@maria")),
        ("commitments maria@city.gov", Commitments("maria@city.gov")),
        ("commitments potholes", Commitments("potholes")),
        ("overdue", Overdue()),
        ("commit Fix the hotline by Friday", Commit("Fix the hotline", FRIDAY)),
        ("/stat Commit Fix the hotline BY friday", Commit("Fix the hotline", FRIDAY)),
        (
            "commit Clear the bypass by the bay by 2026-12-05",
            Commit("Clear the bypass by the bay", dt.date(2026, 12, 5)),
        ),
        ("commit Hire two inspectors by end of month", Commit("Hire two inspectors", dt.date(2026, 12, 31))),
        ("done 12", Done(12)),
        ("done #12", Done(12)),
        ("/stat done  #7 ", Done(7)),
        ("update 12 Vendor called back", Update(12, "Vendor called back")),
        ("update #12 Vendor called back", Update(12, "Vendor called back")),
        ("away friday", Away(FRIDAY, FRIDAY)),
        ("away until friday", Away(TODAY, FRIDAY)),
        ("away Dec 22 to Jan 2", Away(dt.date(2026, 12, 22), dt.date(2027, 1, 2))),
        ("away Dec 22 Jan 2", Away(dt.date(2026, 12, 22), dt.date(2027, 1, 2))),
        ("away from 2026-12-22 to 2027-01-02", Away(dt.date(2026, 12, 22), dt.date(2027, 1, 2))),
        ("away 2026-12-05 - 2026-12-08", Away(dt.date(2026, 12, 5), dt.date(2026, 12, 8))),
        ("away fri mon", Away(FRIDAY, dt.date(2026, 12, 7))),
        ("away friday to thursday", Away(FRIDAY, dt.date(2026, 12, 10))),
        ("away next friday to friday", Away(dt.date(2026, 12, 11), dt.date(2026, 12, 11))),
        # Said on a Wednesday: next Monday to the Friday after it, not back to this Friday.
        ("away mon fri", Away(dt.date(2026, 12, 7), dt.date(2026, 12, 11))),
        ("away next monday", Away(dt.date(2026, 12, 7), dt.date(2026, 12, 7))),
        ("digest", Digest(None)),
        ("digest 2026-w48", Digest("2026-W48")),
        ("ask potholes Why did the backlog grow?", Ask("potholes", "Why did the backlog grow?")),
        ('ask "Public Works" Why so slow?', Ask("Public Works", "Why so slow?")),
    ],
)
def test_commands(typed: str, command: Command) -> None:
    assert parse(typed) == command


@pytest.mark.parametrize(
    "typed",
    ["filled 412, backlog 35", "412", "thanks!", "/statistics", "helpme", "reporting 12"],
)
def test_other_text_is_not_a_command(typed: str) -> None:
    assert parse(typed) is None


@pytest.mark.parametrize(
    ("typed", "command", "words"),
    [
        ("report now", "report", ['"now"']),
        ("overdue 3", "overdue", ['"3"']),
        ("commit", "commit", ["commit needs"]),
        ("commit Fix the hotline", "commit", ["commit needs a due date"]),
        ("commit by Friday", "commit", ["commit needs a due date"]),
        ("commit   by friday", "commit", ["commit needs"]),
        ("commit Fix it by fryday", "commit", ['"fryday"', "not a date"]),
        ("commit Fix it by 2026-11-30", "commit", ["in the past"]),
        ("commit Fix it by 12/05", "commit", ["ambiguous"]),
        ("commit " + "x" * 501 + " by friday", "commit", ["501 characters", "500"]),
        ("done", "done", ["needs the commitment number"]),
        ("done twelve", "done", ['"twelve" is not a commitment number']),
        ("done 12 13", "done", ["not a commitment number"]),
        ("done 0", "done", ["start at 1"]),
        ("done #", "done", ["not a commitment number"]),
        ("update", "update", ["needs the commitment number"]),
        ("update 12", "update", ["needs a note"]),
        ("update x Vendor called", "update", ['"x" is not a commitment number']),
        ("update 12 " + "x" * 2001, "update", ["2001 characters"]),
        ("away", "away", ["needs the dates"]),
        ("away blah", "away", ['"blah"', "not a date"]),
        ("away blah blah", "away", ["as dates"]),
        ("away Jan 2 Dec 22", "away", ["before the start"]),
        ("away friday to today", "away", ["before the start"]),
        ("away until yesterday", "away", ["in the past"]),
        ("away 2026-11-30", "away", ["in the past"]),
        ("digest last", "digest", ["not a week", "2026-W48"]),
        ("digest 2026-W60", "digest", ["no week 60"]),
        ("ask", "ask", ["needs a unit and a question"]),
        ("ask potholes", "ask", ["needs a question", '"potholes"']),
        ('ask "Public Works"', "ask", ["needs a question"]),
    ],
)
def test_malformed_commands_explain_and_show_usage(typed: str, command: str, words: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        parse(typed)
    assert refused.value.command == command
    message = str(refused.value)
    assert message == refused.value.message
    for word in words:
        assert word in message
    syntax = USAGE[command].split(" — ")[0]
    assert syntax in message
    assert "e.g." in message


def test_commit_usage_message_reads_well() -> None:
    with pytest.raises(CommandError) as refused:
        parse("commit Fix the hotline")
    assert str(refused.value) == (
        'commit needs a due date: commit <text> by <date>, e.g. "commit Fix the hotline by Friday"'
    )


def test_commit_text_of_500_characters_is_allowed() -> None:
    command = parse("commit " + "x" * 500 + " by friday")
    assert command == Commit("x" * 500, FRIDAY)


def test_help_lists_every_command() -> None:
    text = help_text()
    for word in COMMAND_WORDS:
        assert USAGE[word] in text


def test_help_on_one_command() -> None:
    text = help_text("commit")
    assert "commit <text> by <date>" in text
    assert "commit Fix the hotline by Friday" in text
    assert "done <id>" not in text


def test_help_on_an_unknown_topic_says_so_and_lists_all() -> None:
    text = help_text("frobnicate")
    assert 'I don\'t know a command called "frobnicate"' in text
    for word in COMMAND_WORDS:
        assert USAGE[word] in text


def test_every_command_word_has_usage() -> None:
    assert sorted(USAGE) == sorted(COMMAND_WORDS)
    for word, usage in USAGE.items():
        assert usage.startswith(word)
        assert " — " in usage


_COMMANDISH = st.lists(
    st.sampled_from(
        [
            *COMMAND_WORDS, "/stat", "by", "to", "until", "from", "-", "#", "#12", "12", "0",
            "friday", "mon", "dec", "22", "2026-W48", "2026-12-05", '"', "Public", "@maria",
            "\n", "next", "in", "3", "days",
        ]
    ),
    max_size=7,
).map(" ".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(), _COMMANDISH),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
)
def test_parse_command_only_raises_command_error(text: str, today: dt.date) -> None:
    try:
        command = parse_command(text, today=today)
    except CommandError as refused:
        assert refused.message.strip()
        assert refused.command in COMMAND_WORDS
    else:
        if isinstance(command, Commit):
            assert command.text
            assert len(command.text) <= 500
            assert command.due >= today
        if isinstance(command, Away):
            assert today <= command.start <= command.end
        if isinstance(command, Done | Update):
            assert command.id >= 1


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and "by" not in s.lower()))
def test_commit_keeps_any_text_before_the_last_by(text: str) -> None:
    command = parse_command(f"commit {text} by friday", today=TODAY)
    assert command == Commit(text.strip(), FRIDAY)
