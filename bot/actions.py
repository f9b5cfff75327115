"""Every action a button or a form can carry, in one place.

The values travel on the wire (Slack block actions, Teams card data, console payloads),
so they never change; the bot dispatches on them through its registry of handlers
(`bot.conversation.BUTTONS` and `bot.conversation.FORMS`).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    CHECKIN_OPEN = "checkin.open"
    CHECKIN_SUBMIT = "checkin.submit"
    CHECKIN_CONFIRM = "checkin.confirm"
    FOLLOWUP_ASK = "followup.ask"
    FOLLOWUP_ANSWER = "followup.answer"
    # Track the promise a plain answer made ("the backlog clears by Friday").
    FOLLOWUP_TRACK = "followup.track"
    ESCALATION_ACK = "escalation.ack"
    ESCALATION_SNOOZE = "escalation.snooze"
    ESCALATION_DONE = "escalation.done"
    DIGEST_SHOW = "digest.show"
    MEMO_APPROVE = "memo.approve"
    # Send a session's draft brief now instead of at its time.
    BRIEF_SEND = "brief.send"
    # The chair's choice on a repeated exception: the button opens its form.
    DECISION_CHOOSE = "decision.choose"
