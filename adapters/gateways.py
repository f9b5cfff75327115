"""Choosing how deliveries leave: the platform gateways configured in the settings."""

from __future__ import annotations

from adapters.container import Container
from bot.ports import ChatGateway


def build_gateway(container: Container) -> ChatGateway | None:
    """The gateway for the configured platforms, or None when none is configured (the
    outbox then keeps the deliveries until one is)."""
    return None
