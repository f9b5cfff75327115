"""The Teams app package (`statbot manifest teams --out statbot-teams.zip`).  Pure.

A zip of ``manifest.json`` (schema 1.17: the bot id, personal and team scopes, the command
list) and the two icons Teams requires: ``color.png`` (192×192) and ``outline.png`` (32×32,
white on transparent).  The icons are drawn here so the package needs no files shipped.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from typing import Any

from bot.commands import _SPECS  # the grammar every platform shares

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.17"
# Teams shows at most 10 commands per scope; titles ≤ 32, descriptions ≤ 128 characters.
MAX_COMMANDS = 10
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
COMMANDS = (
    "help",
    "report",
    "status",
    "commitments",
    "overdue",
    "commit",
    "done",
    "update",
    "away",
    "digest",
)


def _png(width: int, height: int, pixel: Any) -> bytes:
    """An RGBA PNG; ``pixel(x, y)`` returns (r, g, b, a)."""
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("BBBB", *pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _bars(x: int, y: int, size: int) -> bool:
    """Three rising bars: statbot's mark."""
    unit = size / 8
    for index, top in enumerate((5, 3.5, 2)):
        left = unit * (1.25 + index * 2)
        if left <= x < left + unit * 1.5 and unit * top <= y < unit * 6.75:
            return True
    return False


def color_icon() -> bytes:
    return _png(192, 192, lambda x, y: (255, 255, 255, 255) if _bars(x, y, 192) else (0, 94, 184, 255))


def outline_icon() -> bytes:
    return _png(32, 32, lambda x, y: (255, 255, 255, 255) if _bars(x, y, 32) else (0, 0, 0, 0))


def commands() -> list[dict[str, str]]:
    return [
        {"title": name, "description": _SPECS[name].description[:128]}
        for name in COMMANDS[:MAX_COMMANDS]
        if name in _SPECS
    ]


def teams_manifest(
    app_id: str | None, *, public_url: str | None = None, version: str = "1.0.0"
) -> dict[str, Any]:
    if not app_id or not _GUID.fullmatch(app_id):
        raise ValueError("MicrosoftAppId is not set to the bot's app id (a GUID from the Azure Bot resource)")
    domain = re.sub(r"^https?://", "", public_url or "").split("/")[0]
    website = public_url or "https://github.com/statbot/statbot"
    manifest: dict[str, Any] = {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "statbot",
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "name": {"short": "statbot", "full": "statbot: the weekly performance conversation"},
        "description": {
            "short": "Weekly check-ins, commitments and the Monday digest.",
            "full": (
                "statbot asks unit heads for their weekly numbers and commitments, shows leaders "
                "what needs their attention every Monday, and follows up on what goes quiet."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#005EB8",
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands()},
                    {"scopes": ["team"], "commands": commands()},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain] if domain else [],
    }
    return manifest


def teams_package(app_id: str | None, *, public_url: str | None = None) -> bytes:
    """The app package as zip bytes (upload it in Teams: Apps → Manage your apps)."""
    manifest = teams_manifest(app_id, public_url=public_url)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()
