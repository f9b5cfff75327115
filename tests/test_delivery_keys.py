"""Delivery audiences and idempotency keys: one typed value each, the stored text unchanged."""

from __future__ import annotations

import pytest

from bot.deliveries.models import Audience, AudienceKind, Delivery, DeliveryKey, KeyKind


def test_audiences_keep_their_stored_form() -> None:
    assert str(Audience.person(12)) == Delivery.to_person(12) == "person:12"
    assert str(Audience.channel("citistat")) == Delivery.to_channel("citistat") == "channel:citistat"
    assert Audience.parse("person:12") == Audience(AudienceKind.PERSON, "12")
    person = Audience.parse("person:12")
    assert person is not None and person.person_id == 12 and person.channel_name is None
    channel = Audience.parse("channel:citistat")
    assert channel is not None and channel.channel_name == "citistat" and channel.person_id is None


@pytest.mark.parametrize("text", ["robot:1", "person:abc", "person:", "person:²", "channel:", "citistat", ""])
def test_an_audience_the_bot_does_not_write_reads_as_none(text: str) -> None:
    assert Audience.parse(text) is None


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (DeliveryKey.checkin_prompt(40), "checkin:40:prompt"),
        (DeliveryKey.checkin_reminder(40, 2), "checkin:40:reminder:2"),
        (DeliveryKey.escalation_step(7, 0), "escalation:7:step:0"),
        (DeliveryKey.followup_asked(9), "followup:9:asked"),
        (DeliveryKey.followup_answered(9), "followup:9:answered"),
        (DeliveryKey.digest("2026-W48", Audience.person(4), 0), "digest:2026-W48:person:4:0"),
        (
            DeliveryKey.digest("2026-W48", "channel:citistat", 1, ":resend-20261130T120000"),
            "digest:2026-W48:channel:citistat:1:resend-20261130T120000",
        ),
    ],
)
def test_keys_keep_their_stored_form_and_read_back(key: DeliveryKey, text: str) -> None:
    assert str(key) == text
    assert DeliveryKey.parse(text) == key


def test_what_a_key_is_about() -> None:
    prompt = DeliveryKey.parse("checkin:40:prompt")
    assert prompt is not None and prompt.kind is KeyKind.CHECKIN and prompt.id == 40 and prompt.week is None
    assert prompt.audience is None
    digest = DeliveryKey.parse("digest:2026-W48:channel:citistat:1:resend-20261130T120000")
    assert digest is not None and digest.id is None and digest.week == "2026-W48"
    assert digest.audience == Audience.channel("citistat")


@pytest.mark.parametrize("text", ["k", "prompt:1", "memo:1:sent", "checkin:40", "checkin::prompt"])
def test_a_key_the_bot_does_not_write_reads_as_none(text: str) -> None:
    assert DeliveryKey.parse(text) is None
