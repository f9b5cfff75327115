"""Choosing how deliveries leave: the platform gateways configured in the settings."""

from __future__ import annotations

from bot.ports import ChatGateway


def build_gateway(
    *, slack: ChatGateway | None = None, teams: ChatGateway | None = None
) -> ChatGateway | None:
    """The gateway for the configured platforms, or None when none is configured (the
    outbox then keeps the deliveries until one is)."""
    if slack is not None and teams is not None:
        raise NotImplementedError("Slack and Teams together are not supported yet")
    return slack or teams
