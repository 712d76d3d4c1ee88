"""The settings of what the service sends out and keeps outside its database: e-mail (the
mail backend and its SMTP server) and attached files (a local folder or an S3-compatible
object store). :class:`core.config.Settings` holds them with the rest; they are read from
the same ``CRM_*`` variables and validated in the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings


class OutboundSettings(BaseSettings):
    """E-mail and attachment storage settings (a part of :class:`core.config.Settings`)."""

    mail_backend: Literal["smtp", "folder", "console"] = Field(
        default="console",
        description="How e-mail leaves: smtp (CRM_SMTP_*), folder (one .eml file per message "
        "in CRM_MAIL_FOLDER) or console (logged); console by default, so a fresh machine "
        "never reaches out to a mail server.",
    )
    mail_folder: Path | None = Field(
        default=None, description="Where the folder backend writes mail; unset: <data dir>/mail."
    )
    mail_from: str = Field(
        default="CRM <crm@localhost>",
        description="The From of every e-mail: an address, with a display name or without.",
    )
    smtp_host: str = Field(default="", description="The SMTP server; required with smtp.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: plain connection upgraded with STARTTLS, required (port 587); "
        "tls: TLS from the start (port 465); none: no encryption (a relay on the same host).",
    )
    smtp_username: str = Field(default="", description="Login at the SMTP server; empty: none.")
    smtp_password: SecretStr = Field(
        default=SecretStr(""),
        description="Password for CRM_SMTP_USERNAME; hidden in reprs and logs.",
    )
    smtp_timeout: float = Field(
        default=30, gt=0, le=600, description="Seconds an SMTP connection or reply may take."
    )
    # Attached files (core.attachments): the largest accepted, and where they are kept.
    attachment_max_bytes: int = Field(default=20_971_520, ge=1, le=1_073_741_824)
    attachment_store: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="The secret access key for CRM_S3_ACCESS_KEY; hidden in reprs and logs.",
    )
    s3_region: str = "us-east-1"

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        from core.mail_transport import parse_from

        return parse_from(value)

    @field_validator("smtp_host")
    @classmethod
    def _host_when_smtp(cls, value: str, info: ValidationInfo) -> str:
        cleaned = value.strip()
        if not cleaned and info.data.get("mail_backend") == "smtp":
            raise ValueError("is required when CRM_MAIL_BACKEND=smtp")
        if any(char.isspace() or char in "/@:" for char in cleaned):
            raise ValueError("must be a host name or IP address, e.g. smtp.example.com")
        return cleaned

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_when_s3(cls, value: str, info: ValidationInfo) -> str:
        cleaned = value.strip()
        if not cleaned and info.data.get("attachment_store") == "s3":
            raise ValueError("is required when CRM_ATTACHMENT_STORE=s3")
        return cleaned

    @field_validator("smtp_password")
    @classmethod
    def _with_username(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if bool(value.get_secret_value()) != bool(info.data.get("smtp_username")):
            raise ValueError("and CRM_SMTP_USERNAME must be set together, or neither")
        return value
