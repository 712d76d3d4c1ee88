"""Configuration, read from ``CRM_*`` environment variables and validated at startup.

Every setting has a safe default. A bad value stops startup with a message that names the
environment variable and says what was expected (:class:`ConfigError`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from core.config_outbound import OutboundSettings
from core.i18n import LocaleName
from core.plugin_settings import ConfigError, config_error, load_plugin_settings, masked_url
from core.secret_key import MIN_SECRET_KEY_LENGTH, stored_secret_key

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = [
    "ENV_PREFIX",
    "ConfigError",
    "Settings",
    "config_error",
    "load_plugin_settings",
    "load_settings",
]

ENV_PREFIX = "CRM_"
REQUIRABLE_CUSTOMER_FIELDS = (
    "industry", "kind", "stage", "source", "phone", "email", "website", "address", "contact",
    "foundedOn",
)  # fmt: skip
"""What ``CRM_CUSTOMER_REQUIRED_FIELDS`` may name: createCustomer's fields (``contact``: a
phone or an email)."""
KEY_ACCOUNT_GRADES = ("GOLD", "SILVER", "STANDARD")


class Settings(OutboundSettings):
    """The service's settings. Build with :func:`load_settings`, not directly."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, validate_default=True
    )

    data_dir: Path = Field(default=Path("var"), description="Where the embedded database lives.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means an SQLite file in the data directory.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Database connections each process keeps, at most; a statement waits for "
        "one when all are in use.",
    )
    plugins: str | None = Field(
        default=None,
        description="Comma-separated plugin names; unset enables all installed, empty none.",
    )
    secret_key: str = Field(
        default="",
        description="Signs access tokens; generated once into the data directory when empty.",
        repr=False,  # a secret: kept out of reprs and configuration errors
    )
    env: Literal["development", "production"] = Field(
        default="production",
        description="development turns GraphiQL (and so anonymous introspection) on by "
        "default; production leaves both off unless set.",
    )
    debug: bool = False
    graphiql: bool | None = Field(
        default=None,
        description="GraphiQL at `GET /graphql` in a browser; unset: on in development or "
        "with debug.",
    )
    graphiql_assets: Path | None = Field(
        default=None,
        description="The node_modules directory GraphiQL's files are served from; unset: "
        "web/node_modules beside the source, or a CDN when they are not installed there.",
    )
    introspection: bool | None = Field(
        default=None,
        description="Whether anonymous callers may introspect the schema; unset: when "
        "GraphiQL is on. Signed-in callers always may.",
    )
    cors_origins: str = Field(default="", description="Comma-separated allowed origins.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IP addresses or CIDR networks of reverse proxies whose "
        "X-Forwarded-For is believed; empty: none, the client is the connection's peer.",
    )
    max_query_depth: int = Field(default=12, ge=1, le=100)
    max_aliases: int = Field(default=30, ge=0, le=1000)
    max_tokens: int = Field(default=5000, ge=10, le=1_000_000)
    max_page_size: int = Field(default=100, ge=1, le=100)
    read_path: Literal["compiled", "reference", "compare"] = Field(
        default="compiled",
        description="How query documents are executed: `compiled` (planned once, each level "
        "of the response computed in batches; a document the plan cannot serve runs on "
        "graphql-core's executor), `reference` (graphql-core's executor always) or `compare` "
        "(both, requiring the same response: for tests).",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=104_857_600)
    sql_echo: bool = False
    default_region: str = Field(
        default="US",
        description=(
            "ISO 3166 country for phone numbers written without +country code (CN for China)."
        ),
    )
    dormant_days: int = Field(default=90, ge=1, le=3650)
    customer_required_fields: str = Field(
        default="",
        description="Comma-separated fields a new customer must have, of "
        + ", ".join(REQUIRABLE_CUSTOMER_FIELDS)
        + "; empty: only the name.",
    )
    key_account_grades: str = Field(default="", description="Grades of key customers.")
    key_account_tags: str = Field(default="", description="Tags that make a key customer.")
    key_account_task_type: Literal["VISIT", "CALL"] = "VISIT"
    time_zone: str = Field(
        default="UTC",
        description="IANA time zone of the deployment, e.g. Asia/Shanghai: date-times are "
        "shown in it to users without their own, and it decides the calendar day of jobs.",
    )
    locale: LocaleName = Field(
        default="en",
        description="Language of the deployment (en or zh-CN): of messages when neither the "
        "request nor the user names one, and of contacts without their own.",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    refresh_grace_seconds: int = Field(
        default=30,
        ge=0,
        le=60,
        description="Seconds a just-rotated refresh token still gets the same new pair; 0: "
        "none, any second use revokes the session.",
    )
    password_min_length: int = Field(default=10, ge=8, le=128)
    login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="Failed logins per account before a lock."
    )
    login_address_max_failures: int = Field(
        default=30, ge=1, le=100_000, description="Failed logins per client address before a lock."
    )
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_slowdown_seconds: float = Field(
        default=0.5, ge=0, le=10, description="Delay added per failure before the lock."
    )
    password_hash_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=256,
        description="Password hashes/checks run at once, in worker threads (default: CPUs).",
    )

    max_import_bytes: int = Field(
        default=33_554_432,
        ge=1024,
        le=1_073_741_824,
        description="Largest CSV file `POST /import/customers` takes.",
    )
    persisted_queries: Literal["automatic", "trusted", "off"] = Field(
        default="automatic",
        description="automatic: persisted queries as Apollo's PersistedQueryLink sends them; "
        "trusted: only operations registered with `crm persisted-queries register` run; off.",
    )
    worker_in_process: bool = Field(
        default=True,
        description="Run a background job runner inside each `crm serve` process; set false "
        "where `crm worker` processes run the jobs.",
    )
    import_sync_max_rows: int = Field(
        default=250,
        ge=1,
        le=50_000,
        description="Rows `importCustomers` takes in one request (one transaction); larger "
        "files go through `startCustomerImport`, a background job.",
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="The service's address as people reach it: the base of links in e-mails.",
    )
    outbox_batch: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Outbox messages (emails, webhook calls) a worker claims and sends at once.",
    )
    outbox_lease_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How long a worker holds a claimed batch: after it, a worker that died "
        "holding messages has them delivered by another.",
    )
    outbox_max_attempts: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Tries before an outbox message is given up (FAILED).",
    )
    outbox_retry_seconds: int = Field(
        default=30,
        ge=1,
        le=86_400,
        description="Wait after a first failed delivery; doubled after each further one, at "
        "most six hours.",
    )
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Delivered and given-up outbox messages, and logged webhook delivery "
        "attempts, are deleted after this many days.",
    )
    record_url: str = Field(
        default="",
        description="Address of a record in your app, with `{type}` and `{id}` (its GraphQL "
        "type and global id), e.g. https://crm.example.com/{type}/{id}: notification emails "
        "link to it; empty: they carry no link.",
    )
    notification_retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="Read notifications are deleted after this many days.",
    )
    task_reminder_hours: int = Field(
        default=24,
        ge=0,
        le=24 * 90,
        description="A task without its own reminder time is reminded this many hours before "
        "it is due (0: at the due time).",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhook subscriptions post to private, loopback, link-local and "
        "reserved addresses (a receiver on the same network); off: only public addresses.",
    )
    webhooks_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description="How long one webhook post may take as a whole (looking up the host, "
        "connecting, sending, the answer).",
    )
    webhooks_disable_after: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failed webhook posts in a row after which a subscription is disabled.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        scheme = value.split(":", 1)[0]
        aliases = {
            "sqlite": "sqlite+aiosqlite",
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
        }
        scheme = aliases.get(scheme, scheme)
        if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "must start with sqlite:// or postgresql:// (drivers aiosqlite or asyncpg)"
            )
        return scheme + ":" + value.split(":", 1)[1] if ":" in value else value

    @field_validator("customer_required_fields", "key_account_grades", "key_account_tags")
    @classmethod
    def _known_names(cls, value: str, info: ValidationInfo) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        known: tuple[str, ...] = ()
        if info.field_name == "customer_required_fields":
            known = REQUIRABLE_CUSTOMER_FIELDS
        elif info.field_name == "key_account_grades":
            known = KEY_ACCOUNT_GRADES
        unknown = [name for name in names if known and name not in known]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not one of {', '.join(known)}")
        return ",".join(dict.fromkeys(names))

    @field_validator("record_url")
    @classmethod
    def _record_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        try:
            example = value.format(type="Customer", id="Q3VzdG9tZXI6MQ==")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may contain only the placeholders {type} and {id}") from None
        if not example.startswith(("http://", "https://")) or "{id}" not in value:
            raise ValueError("must be an http(s) address containing {id}")
        return value

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter country code, e.g. US, GB, DE")
        return code

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from core.zones import zone_name

        name = zone_name(value)
        if name is None:
            raise ValueError(
                "must be an IANA time zone such as Asia/Shanghai, Europe/London or UTC"
            )
        return name

    @field_validator("locale", mode="before")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from core.zones import LOCALES, locale_tag

        tag = locale_tag(value)
        if tag is None:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return tag

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or CIDR network "
                    "(give a comma-separated list, e.g. 10.0.0.5,192.168.0.0/16)"
                ) from None
        return value

    @field_validator("graphiql_assets", mode="before")
    @classmethod
    def _installed(cls, value: Any) -> Any:
        from core.graphiql import missing_assets

        if value is None or value == "":
            return None
        value = Path(value)
        if not value.is_dir():
            raise ValueError("is not a directory (give the node_modules that holds graphiql)")
        missing = missing_assets(value)
        if missing:
            raise ValueError(
                f"has no {missing[0]} (run `npm ci` in web/ and name its node_modules)"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        from urllib.parse import urlsplit

        cleaned = value.strip().rstrip("/")
        parts = urlsplit(cleaned)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address, e.g. https://crm.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return cleaned

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
        return value

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """The fields a repr shows: the database URL with its password masked."""
        for name, value in super().__repr_args__():
            yield name, masked_url(value) if name == "database_url" else value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/crm.sqlite3``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'crm.sqlite3').resolve()}"

    @property
    def resolved_mail_folder(self) -> Path:
        """Where the folder mail backend writes, defaulting to ``<data_dir>/mail``."""
        return self.mail_folder if self.mail_folder is not None else self.data_dir / "mail"

    @property
    def enabled_plugins(self) -> list[str] | None:
        """The plugin allow-list: ``None`` means every installed plugin."""
        if self.plugins is None:
            return None
        return [name.strip() for name in self.plugins.split(",") if name.strip()]

    @staticmethod
    def names(value: str) -> list[str]:
        """The names in a comma-separated setting (``CRM_CUSTOMER_REQUIRED_FIELDS``...)."""
        return [name for name in value.split(",") if name]

    @property
    def zone(self) -> ZoneInfo:
        """The deployment's time zone (``CRM_TIME_ZONE``)."""
        from core.zones import zone

        return zone(self.time_zone)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def graphiql_enabled(self) -> bool:
        """Whether GraphiQL is served (``CRM_GRAPHIQL``; unset: in development or with debug)."""
        if self.graphiql is not None:
            return self.graphiql
        return self.env == "development" or self.debug

    @property
    def anonymous_introspection(self) -> bool:
        """Whether callers without a token may introspect (``CRM_INTROSPECTION``)."""
        return self.graphiql_enabled if self.introspection is None else self.introspection

    @property
    def trusted_proxy_networks(self) -> list[IPNetwork]:
        return [
            ipaddress.ip_network(item.strip(), strict=False)
            for item in self.trusted_proxies.split(",")
            if item.strip()
        ]


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (overrides win) and validate them.

    Raises :class:`ConfigError` with one line per bad variable.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise config_error(exc, ENV_PREFIX, Settings) from None
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": stored_secret_key(settings.data_dir)})
    return settings
