"""Who may do what: the whole matrix of bot.permissions, one row per (role, right), for a
unit that is restricted and one that is not."""

from __future__ import annotations

import pytest

from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, Right, can_change_session, channel_may_see, may, refusal, require

HEAD, DEPUTY, LEADER, ANALYST, ADMIN, OUTSIDER, OTHER_LEADER = 1, 2, 3, 4, 5, 6, 7

PEOPLE = {
    "head": Person(id=HEAD, email="head@city.gov", name="Head", timezone="UTC"),
    "deputy": Person(id=DEPUTY, email="deputy@city.gov", name="Deputy", timezone="UTC"),
    # The unit's own leader.
    "leader": Person(id=LEADER, email="leader@city.gov", name="Leader", timezone="UTC", roles=["leader"]),
    "analyst": Person(
        id=ANALYST, email="analyst@city.gov", name="Analyst", timezone="UTC", roles=["analyst"]
    ),
    "admin": Person(id=ADMIN, email="admin@city.gov", name="Admin", timezone="UTC", roles=["admin"]),
    # The head of another unit: no role, no tie to this one.
    "outsider": Person(id=OUTSIDER, email="out@city.gov", name="Outsider", timezone="UTC"),
    # A leader, but of other units.
    "other leader": Person(
        id=OTHER_LEADER, email="ol@city.gov", name="Other", timezone="UTC", roles=["leader"]
    ),
}
ROLES = tuple(PEOPLE)


def unit(restricted: bool) -> Unit:
    return Unit(
        id=10,
        key="streets",
        name="Streets",
        timezone="UTC",
        head_id=HEAD,
        deputy_id=DEPUTY,
        leader_id=LEADER,
        restricted=restricted,
    )


# For each right: the roles that may, on an open unit and on a restricted one.  The
# commitment (or follow-up) in question is owned by the head.
T, F = True, False
#                          head deputy leader analyst admin outsider other-leader
MATRIX: dict[Right, dict[bool, tuple[bool, ...]]] = {
    Right.READ: {
        False: (T, T, T, T, T, T, T),
        True: (T, T, T, F, T, F, T),
    },
    Right.SUBMIT: {
        False: (T, T, F, F, T, F, F),
        True: (T, T, F, F, T, F, F),
    },
    Right.COMMIT: {
        False: (T, T, F, F, F, F, F),
        True: (T, T, F, F, F, F, F),
    },
    Right.CHANGE_COMMITMENT: {
        False: (T, T, T, F, T, F, F),
        True: (T, T, T, F, T, F, F),
    },
    Right.ASK: {
        False: (F, F, T, T, T, F, T),
        True: (F, F, T, F, T, F, T),
    },
    Right.ANSWER: {
        False: (T, T, F, F, F, F, F),
        True: (T, T, F, F, F, F, F),
    },
    Right.CALL_OFF: {
        False: (F, F, T, F, T, F, T),
        True: (F, F, T, F, T, F, T),
    },
    Right.ACT_ON_ESCALATION: {
        False: (T, T, T, F, T, F, T),
        True: (T, T, T, F, T, F, T),
    },
    Right.FINISH: {
        False: (T, T, T, F, T, F, F),
        True: (T, T, T, F, T, F, F),
    },
    Right.SEE_DIGEST: {
        False: (F, F, T, T, T, F, T),
        True: (F, F, T, T, T, F, T),
    },
    # Scheduling a session: any leader or analyst who may see the unit.
    Right.RUN_SESSION: {
        False: (F, F, T, T, T, F, T),
        True: (F, F, T, F, T, F, T),
    },
    # Cancelling or handing over one: not any leader, only the unit's own (and its
    # chairs, below; tests/test_sessions.py through the bot).
    Right.CHANGE_SESSION: {
        False: (F, F, T, T, T, F, F),
        True: (F, F, T, F, T, F, F),
    },
}


def test_the_matrix_covers_every_right() -> None:
    assert set(MATRIX) == set(Right)
    for row in MATRIX.values():
        assert set(row) == {False, True}
        assert all(len(allowed) == len(ROLES) for allowed in row.values())


@pytest.mark.parametrize("restricted", [False, True], ids=["open unit", "restricted unit"])
@pytest.mark.parametrize("right", list(Right))
@pytest.mark.parametrize("role", ROLES)
def test_who_may_do_what(role: str, right: Right, restricted: bool) -> None:
    expected = MATRIX[right][restricted][ROLES.index(role)]
    person, where = PEOPLE[role], unit(restricted)
    assert may(person, right, where, owner_id=HEAD) is expected
    if expected:
        require(person, right, where, owner_id=HEAD)
    else:
        with pytest.raises(NotAllowed) as refused:
            require(person, right, where, owner_id=HEAD)
        assert str(refused.value)  # a refusal always says why


@pytest.mark.parametrize("right", [Right.CHANGE_COMMITMENT, Right.ANSWER])
def test_the_owner_of_a_commitment_may_act_on_it(right: Right) -> None:
    owner = PEOPLE["outsider"]
    assert not may(owner, right, unit(False))
    assert may(owner, right, unit(False), owner_id=OUTSIDER)


@pytest.mark.parametrize("restricted", [False, True], ids=["open unit", "restricted unit"])
def test_a_sessions_chair_and_scheduled_chair_may_change_it(restricted: bool) -> None:
    other, outsider = PEOPLE["other leader"], PEOPLE["outsider"]
    assert not can_change_session(other, unit(restricted), {HEAD})
    assert can_change_session(other, unit(restricted), {HEAD, OTHER_LEADER})
    # A chair must still see the unit (a delegation checks that too).
    assert can_change_session(outsider, unit(restricted), {OUTSIDER}) is not restricted
    gone = Person(id=OTHER_LEADER, email="ol@city.gov", name="Other", timezone="UTC", active=False)
    assert not can_change_session(gone, unit(restricted), {OTHER_LEADER})


def test_an_inactive_person_may_not_read() -> None:
    gone = Person(id=HEAD, email="head@city.gov", name="Head", timezone="UTC", active=False)
    assert not may(gone, Right.READ, unit(False))
    assert not may(gone, Right.SEE_DIGEST, unit(False))


def test_an_analyst_asking_about_a_restricted_unit_is_told_it_is_restricted() -> None:
    with pytest.raises(NotAllowed) as refused:
        require(PEOPLE["analyst"], Right.ASK, unit(True))
    assert str(refused.value) == refusal(Right.READ, unit(True))
    with pytest.raises(NotAllowed) as refused:
        require(PEOPLE["head"], Right.ASK, unit(False))
    assert "for leaders and analysts" in str(refused.value)


def test_the_leadership_channel_never_sees_a_restricted_unit() -> None:
    assert channel_may_see(unit(False))
    assert not channel_may_see(unit(True))
