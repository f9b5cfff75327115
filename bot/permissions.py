"""Who may do what: every rule of the bot, in one table.  A refusal always says why.

``may(person, right, unit)`` answers for one unit; ``require`` raises ``NotAllowed`` with
the reason in the person's words.  Handlers ask before they call a service, after they
reloaded the object a button or form named (ids from the outside are never trusted).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from enum import StrEnum

from bot.messages.text import possessive
from bot.org.models import Person, Unit


class NotAllowed(Exception):
    """The person may not do this; the message says why, in their words."""


class Right(StrEnum):
    READ = "read"  # see the unit: status, numbers, commitments
    SUBMIT = "submit"  # fill in or correct the unit's check-in
    COMMIT = "commit"  # make a commitment on behalf of the unit
    CHANGE_COMMITMENT = "change commitment"  # done, dropped, progress note, new date
    ASK = "ask"  # send the unit a follow-up question
    ANSWER = "answer"  # answer a follow-up question owed by the unit
    CALL_OFF = "call off"  # acknowledge or snooze an escalation
    ACT_ON_ESCALATION = "act on escalation"  # use an escalation's buttons at all
    FINISH = "finish"  # complete the item an escalation is about, from the escalation
    SEE_DIGEST = "see digest"  # the leadership digest (unit: any; restricted ones are hidden)
    RUN_SESSION = "run session"  # schedule a stat session about the unit
    CHANGE_SESSION = "change session"  # cancel a scheduled session about the unit, or hand it over


def is_unit_member(person: Person, unit: Unit) -> bool:
    return person.id in (unit.head_id, unit.deputy_id)


def is_unit_leader(person: Person, unit: Unit) -> bool:
    return person.id == unit.leader_id


def is_analyst(person: Person) -> bool:
    return "analyst" in person.roles


def can_read(person: Person, unit: Unit) -> bool:
    if not person.active:
        return False
    if not unit.restricted:
        return True
    return (
        is_unit_member(person, unit)
        or is_unit_leader(person, unit)
        or person.is_admin
        or "leader" in person.roles
    )


def can_submit(person: Person, unit: Unit) -> bool:
    return is_unit_member(person, unit) or person.is_admin


def can_commit(person: Person, unit: Unit) -> bool:
    return is_unit_member(person, unit)


def can_change_commitment(person: Person, unit: Unit, owner_id: int | None = None) -> bool:
    if not can_read(person, unit):
        return False
    return (
        (owner_id is not None and owner_id == person.id)
        or is_unit_member(person, unit)
        or person.is_admin
        or is_unit_leader(person, unit)
    )


def can_ask(person: Person, unit: Unit) -> bool:
    # Asking about a restricted unit would reveal it through the answer.
    asker = person.is_leader or is_analyst(person) or is_unit_leader(person, unit)
    return asker and can_read(person, unit)


def can_answer(person: Person, unit: Unit, owner_id: int | None = None) -> bool:
    return (owner_id is not None and owner_id == person.id) or is_unit_member(person, unit)


def can_call_off(person: Person, unit: Unit) -> bool:
    """Acknowledging or snoozing stops the chain, so it is a leader's decision: the head
    or deputy who owes the item cannot silence their own escalation."""
    return person.is_leader or is_unit_leader(person, unit)


def can_act_on_escalation(person: Person, unit: Unit) -> bool:
    return can_call_off(person, unit) or is_unit_member(person, unit)


def can_finish(person: Person, unit: Unit, owner_id: int | None = None) -> bool:
    """Mark done from an escalation: who acts on it, and may change the item."""
    return can_act_on_escalation(person, unit) and can_change_commitment(person, unit, owner_id)


def can_see_digest(person: Person, unit: Unit | None = None) -> bool:
    return person.active and (person.is_leader or is_analyst(person))


def can_run_session(person: Person, unit: Unit) -> bool:
    """Leaders and analysts run the stat programme: any of them may schedule a session
    about a unit they may see."""
    return can_read(person, unit) and (person.is_leader or is_analyst(person) or is_unit_leader(person, unit))


def can_change_session(person: Person, unit: Unit, chairs: Collection[int | None] = ()) -> bool:
    """Cancelling a scheduled session or handing its chair over is for the people it
    belongs to: its chair and the chair it was scheduled with (``chairs``), the unit's
    leader, analysts and admins.  Another leader may schedule a session of their own but
    not call off someone else's."""
    if not can_read(person, unit):
        return False
    return person.id in chairs or is_unit_leader(person, unit) or is_analyst(person) or person.is_admin


def can_see_brief(person: Person, unit: Unit, participants: Collection[int | None]) -> bool:
    """A session's brief carries the questions the chair may ask: it is for the chair
    and attendees (``participants``), the unit's leader, analysts and admins, never the
    unit's own people; a restricted unit's brief stays with those who may see the unit."""
    if not can_read(person, unit):
        return False
    return person.id in participants or is_unit_leader(person, unit) or is_analyst(person) or person.is_admin


def can_edit_brief(person: Person, unit: Unit, chairs: Collection[int | None]) -> bool:
    """Analysts prepare the brief; the chair (``chairs``) and the unit's leader may
    change it too."""
    if not can_read(person, unit):
        return False
    return person.id in chairs or is_unit_leader(person, unit) or is_analyst(person) or person.is_admin


def channel_may_see(unit: Unit) -> bool:
    """The leadership channel sees a unit's business only when the unit is not restricted
    (an escalation step for the channel goes to the unit's leader instead)."""
    return not unit.restricted


_RULES: dict[Right, Callable[[Person, Unit, int | None], bool]] = {
    Right.READ: lambda p, u, _: can_read(p, u),
    Right.SUBMIT: lambda p, u, _: can_submit(p, u),
    Right.COMMIT: lambda p, u, _: can_commit(p, u),
    Right.CHANGE_COMMITMENT: can_change_commitment,
    Right.ASK: lambda p, u, _: can_ask(p, u),
    Right.ANSWER: can_answer,
    Right.CALL_OFF: lambda p, u, _: can_call_off(p, u),
    Right.ACT_ON_ESCALATION: lambda p, u, _: can_act_on_escalation(p, u),
    Right.FINISH: can_finish,
    Right.SEE_DIGEST: lambda p, u, _: can_see_digest(p, u),
    Right.RUN_SESSION: lambda p, u, _: can_run_session(p, u),
    # Without a session at hand: its chairs are asked about with ``can_change_session``.
    Right.CHANGE_SESSION: lambda p, u, _: can_change_session(p, u),
}


def may(person: Person, right: Right, unit: Unit, *, owner_id: int | None = None) -> bool:
    """May ``person`` do ``right`` for ``unit`` (``owner_id``: the commitment's owner)?"""
    return _RULES[right](person, unit, owner_id)


NO_UNIT_TO_COMMIT_FOR = (
    "Commitments belong to a unit, and you are not the head or deputy of one. "
    "Leaders can ask a unit instead: ask <unit> <question>."
)


def refusal(right: Right, unit: Unit) -> str:
    """Why not, in the person's words."""
    match right:
        case Right.READ:
            return f"{unit.name} is restricted: only its head, deputy and leaders can see its status."
        case Right.SUBMIT:
            return f"Only the head or deputy of {unit.name} (or an admin) can report for it."
        case Right.COMMIT:
            return NO_UNIT_TO_COMMIT_FOR
        case Right.CHANGE_COMMITMENT:
            return (
                f"It belongs to {unit.name}; only its owner, the unit's head, deputy "
                "or leader, or an admin can change it."
            )
        case Right.ASK:
            return "Follow-up questions are for leaders and analysts."
        case Right.ANSWER:
            return f"Only {possessive(unit.name)} head or deputy can answer it."
        case Right.CALL_OFF:
            return (
                "Only leaders can acknowledge or snooze an escalation; "
                f"{possessive(unit.name)} people stop it by getting the item done."
            )
        case Right.ACT_ON_ESCALATION | Right.FINISH:
            return f"Only {possessive(unit.name)} people and leaders can act on this."
        case Right.SEE_DIGEST:
            return "The digest is for leaders and analysts; `status` shows your unit."
        case Right.RUN_SESSION:
            return f"Only a leader or an analyst can schedule a session about {unit.name}."
        case Right.CHANGE_SESSION:
            return (
                f"Only a session's chair, {possessive(unit.name)} leader, analysts and admins "
                f"can cancel or hand over a session about {unit.name}."
            )


def require(person: Person, right: Right, unit: Unit, *, owner_id: int | None = None) -> None:
    if may(person, right, unit, owner_id=owner_id):
        return
    if right is Right.ASK and may(person, right, _unrestricted(unit)):
        # A leader or analyst who may not see this unit is told it is restricted.
        raise NotAllowed(refusal(Right.READ, unit))
    raise NotAllowed(refusal(right, unit))


def _unrestricted(unit: Unit) -> Unit:
    return replace(unit, restricted=False)


def require_submit(person: Person, unit: Unit) -> None:
    require(person, Right.SUBMIT, unit)


def require_read(person: Person, unit: Unit) -> None:
    require(person, Right.READ, unit)
