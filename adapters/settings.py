"""Settings from the environment (and a .env file), with the names of DESIGN.md §4."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.logs import LEVELS
from storage.engine import DatabaseUrlError, check_url, database_password


class SettingsError(Exception):
    """A setting has a bad value; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///statbot.db", validation_alias="STATBOT_DATABASE_URL"
    )
    org_file: str | None = Field(default=None, validation_alias="STATBOT_ORG_FILE")
    host: str = Field(default="127.0.0.1", validation_alias="STATBOT_HOST")
    port: int = Field(default=3978, ge=0, le=65535, validation_alias="STATBOT_PORT")
    public_url: str | None = Field(default=None, validation_alias="STATBOT_PUBLIC_URL")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="STATBOT_SLACK_API_URL")

    microsoft_app_id: str | None = Field(
        default=None, validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFTAPPID")
    )
    microsoft_app_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFTAPPPASSWORD")
    )
    microsoft_app_tenant_id: str | None = Field(
        default=None, validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFTAPPTENANTID")
    )
    microsoft_app_type: str = Field(
        default="MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFTAPPTYPE")
    )

    # Teams without MicrosoftAppId: authentication off, loopback clients only (the Bot
    # Framework Emulator, a local connector).  Never in production.
    teams_emulator: bool = Field(default=False, validation_alias="STATBOT_TEAMS_EMULATOR")
    # Delivered messages keep their words this many days, then only who/when/what kind
    # (the audit trail) stays.  Unset: kept for ever.
    retention_days: int | None = Field(default=None, ge=1, validation_alias="STATBOT_RETENTION_DAYS")

    log_level: str = Field(default="INFO", validation_alias="STATBOT_LOG_LEVEL")
    # json for `serve`, text for the console and one-shot commands, unless set.
    log_format: Literal["json", "text"] | None = Field(default=None, validation_alias="STATBOT_LOG_FORMAT")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LEVELS)}")
        return value.upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() not in ("json", "text"):
            raise ValueError(f"{value!r} is not a log format; use json or text")
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. https://statbot.example.gov")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        # slack-sdk joins method names onto the base URL: it needs the trailing slash.
        return value if value.endswith("/") else value + "/"

    @property
    def retention(self) -> dt.timedelta | None:
        return dt.timedelta(days=self.retention_days) if self.retention_days else None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and bool(self.slack_bot_token.get_secret_value())

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id)

    def secrets(self) -> list[str]:
        """Every secret value configured, for the log redactor."""
        values = [
            s.get_secret_value()
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.microsoft_app_password,
            )
            if s is not None
        ]
        password = database_password(self.database_url)
        return [v for v in (*values, password) if v]


_NAMES = {
    name: (
        field.validation_alias
        if isinstance(field.validation_alias, str)
        else field.validation_alias.choices[0]
        if isinstance(field.validation_alias, AliasChoices)
        else name
    )
    for name, field in Settings.model_fields.items()
}


def load_settings() -> Settings:
    """Read settings; a bad value becomes one line that names the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        variable = _NAMES.get(field, field)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
    except DatabaseUrlError as exc:  # pragma: no cover - raised inside validation
        raise SettingsError(f"STATBOT_DATABASE_URL: {exc}") from None
