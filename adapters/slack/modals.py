"""Answering a modal submission.

A modal submission must be answered in the ack itself (field errors, the next view), so
the turn gets ``form_deadline`` seconds; if the database is slower, the ack pushes a
"saving" view on top of the form and the outcome replaces that view (views.update) when
it is ready.  Cards the turn returns besides the form go to the person's DM.

Nothing typed is lost to a database outage: within the deadline the "try again" words are
the form's own error (Slack keeps every field as typed, and Submit tries again); after it,
they replace the "saving" view, and closing that returns to the form beneath, as typed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import wire
from adapters.slack.parse import FormSubmission
from adapters.slack.render import form_errors, render_form
from bot.cards import is_database_unavailable
from bot.messages import Card, Form, Reply
from bot.org.models import Person

log = logging.getLogger(__name__)

SLOW = "Saving… this is taking longer than usual. This window updates when it is done."
BACK_TO_FORM = "Close this to return to your form: what you typed is still there."
FORM_TOO_LONG = (
    "This form is too long for Slack to show (a Slack form takes at most 100 fields or choices). "
    "Nothing was changed. Close some of your open commitments with `/stat commitments`, then try again."
)

# The turn of a submission: the person (None when unknown or a retry) and the core's reply.
SubmissionTurn = Callable[[FormSubmission], Awaitable[tuple[Person | None, Reply]]]
# Posts cards to a person's DM (person, Slack user id, cards).
CardsToDm = Callable[[Person, str, list[Card]], Coroutine[Any, Any, None]]
# Runs work after the ack (the adapter's tracked tasks).
RunLater = Callable[[Coroutine[Any, Any, None]], Awaitable[None]]


def modal_view(form: Form) -> dict[str, Any]:
    """The form as a statbot modal.  Raises ValueError when Slack cannot show it."""
    return render_form(
        form, callback_id=wire.FORM_CALLBACK, private_metadata=wire.form_metadata(form.action, form.ids)
    )


def notice_view(title: str, text: str, *, close_all: bool = False) -> dict[str, Any]:
    """A modal that says ``text``; ``close_all`` closes the whole modal (the views beneath
    it too) when it is closed."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "statbot_notice",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text[:3000]}}],
    }
    if close_all:
        view["clear_on_close"] = True
    return view


def first_input(submission: FormSubmission) -> str | None:
    """The block id of the submitted form's first input (Slack takes errors only for
    input blocks); None when it has none."""
    return next((b for b in submission.block_ids if b in submission.values), None)


class ModalAnswers:
    def __init__(
        self, client: AsyncWebClient, *, form_deadline: float, later: RunLater, to_dm: CardsToDm
    ) -> None:
        self.client = client
        self.form_deadline = form_deadline
        self._later = later
        self._to_dm = to_dm

    async def answer(self, ack: AsyncAck, submission: FormSubmission, turn: SubmissionTurn) -> None:
        work = asyncio.ensure_future(turn(submission))
        done, _ = await asyncio.wait({work}, timeout=self.form_deadline)
        if work not in done:
            # On top of the form, not instead of it: whatever the outcome, the form stays
            # beneath as typed.  The external id lets the outcome replace this view.
            saving = {**notice_view("statbot", SLOW), "external_id": f"statbot-saving-{uuid.uuid4().hex}"}
            await ack(response_action="push", view=saving)
            await self._later(self._finish_slow(submission, work, saving["external_id"]))
            return
        person, reply = work.result()
        cards = await self._answer_in_ack(ack, submission, reply, shown_here=person is None)
        if cards and person is not None:
            await self._later(self._to_dm(person, submission.user_id, cards))

    async def _finish_slow(
        self,
        submission: FormSubmission,
        work: asyncio.Future[tuple[Person | None, Reply]],
        external_id: str,
    ) -> None:
        person, reply = await work
        cards = await self._update_view(external_id, reply, saved=person is not None)
        if cards and person is not None:
            await self._to_dm(person, submission.user_id, cards)

    async def _answer_in_ack(
        self, ack: AsyncAck, submission: FormSubmission, reply: Reply, *, shown_here: bool = False
    ) -> list[Card]:
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        cards = [m for m in reply.messages if isinstance(m, Card)]
        if form is None and cards and shown_here:
            # No person to write to (unknown, or the database is out of reach): the modal says it.
            text = " ".join(c.summary for c in cards)
            field = first_input(submission)
            if is_database_unavailable(reply) and field is not None:
                # As the form's error: Slack keeps everything typed, and Submit tries again.
                await ack(response_action="errors", errors={field: text})
                return []
            await ack(response_action="update", view=notice_view("statbot", text))
            return []
        if form is None:
            await ack(response_action="clear") if submission.stacked else await ack()
            return cards
        errors = form_errors(form)
        if form.errors and form.action == submission.action and set(errors) <= set(submission.block_ids):
            # Same form, same fields: Slack shows each message under its field and keeps
            # everything typed.
            await ack(response_action="errors", errors=errors)
            return cards
        try:
            view = modal_view(form)
        except ValueError as exc:
            # An ack that raises makes bolt answer 500 and the person sees a vague failure.
            log.warning("form %s cannot be a Slack modal: %s", form.action, exc)
            await ack(response_action="update", view=notice_view("statbot", FORM_TOO_LONG))
            return cards
        if form.action != submission.action and not form.errors:
            # A follow-up form (the data check) goes on top: Back returns to the numbers.
            await ack(response_action="push", view=view)
        else:
            await ack(response_action="update", view=view)
        return cards

    async def _update_view(self, external_id: str, reply: Reply, *, saved: bool = True) -> list[Card]:
        """The slow path: the ack pushed a 'saving' view over the form; replace it with the
        outcome.  A form (the next step, or this one with its errors) goes on top of the
        one beneath; after an outage closing returns to the form as typed; after a save
        closing closes the whole modal."""
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        cards = [m for m in reply.messages if isinstance(m, Card)]
        if form is not None:
            try:
                view = modal_view(form)
            except ValueError as exc:
                log.warning("form %s cannot be a Slack modal: %s", form.action, exc)
                view = notice_view("statbot", FORM_TOO_LONG)
        elif is_database_unavailable(reply):
            view = notice_view("statbot", f"{' '.join(c.summary for c in cards)} {BACK_TO_FORM}")
        else:
            summary = " ".join(c.summary for c in cards) or "Done."
            view = notice_view("statbot", f"Saved. {summary}" if saved else summary, close_all=True)
        try:
            await self.client.views_update(external_id=external_id, view={**view, "external_id": external_id})
        except SlackApiError as exc:
            log.warning("views.update after a slow submission failed: %s", exc.response.get("error"))
        return cards
