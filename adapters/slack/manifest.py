"""The Slack app manifest (`statbot manifest slack`): paste it at api.slack.com/apps."""

from __future__ import annotations

from typing import Any

COMMAND = "/stat"
EVENTS_PATH = "/slack/events"

BOT_SCOPES = (
    "chat:write",  # DMs, the leadership channel, replies
    "commands",  # /stat
    "im:history",  # read direct messages to the bot (message.im)
    "im:write",  # open a DM to send a check-in (conversations.open)
    "users:read",  # users.info for a person who writes first
    "users:read.email",  # link org e-mails to Slack users (users.lookupByEmail)
    "channels:read",  # find the leadership channel by name
    "groups:read",  # ...also when it is private
    "files:write",  # digest charts (files_upload_v2)
)
BOT_EVENTS = ("app_home_opened", "message.im")
USAGE = "help | report | status [unit] | commitments [unit|@person] | overdue | commit <text> by <date> | …"


def slack_manifest(public_url: str | None, *, socket_mode: bool) -> dict[str, Any]:
    """The manifest as a dict (print it as JSON or YAML).

    Over HTTP every request URL is ``{public_url}/slack/events``; with Socket Mode there
    are no URLs and ``public_url`` may be None."""
    if not socket_mode and not public_url:
        raise ValueError(
            "STATBOT_PUBLIC_URL is not set: Slack needs a public HTTPS URL to send events to "
            "(or use Socket Mode: set SLACK_APP_TOKEN)"
        )
    url = f"{public_url.rstrip('/')}{EVENTS_PATH}" if public_url else None
    with_url: dict[str, str] = {} if socket_mode or url is None else {"url": url}
    request_url: dict[str, str] = {} if socket_mode or url is None else {"request_url": url}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "statbot",
            "description": "Weekly performance check-ins, commitments and the Monday digest.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "statbot", "always_online": True},
            "slash_commands": [
                {
                    "command": COMMAND,
                    **with_url,
                    "description": "Check-ins, status, commitments and the digest",
                    "usage_hint": USAGE,
                    # Mentions arrive as <@U…> so they can be matched to org people.
                    "should_escape": True,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {**request_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, **request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
