"""Settings, read from the environment with the ``DTEHUB_`` prefix."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES
from dtehub.sii.config import SiiConfig
from dtehub.sii.ws.config import WsConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DTEHUB_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./dtehub.db",
        description="SQLAlchemy URL: sqlite:///path, postgresql+psycopg://… or postgresql+asyncpg://…",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base of the absolute links (url, xml, pdf, files) in API responses.",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, description="Largest request body accepted; larger answers 413."
    )
    max_xml_bytes: int = Field(
        default=DEFAULT_MAX_XML_BYTES, description="Largest decoded DTE XML accepted; larger answers 413."
    )
    max_file_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest decoded file attachment accepted."
    )
    db_pool_size: int = Field(default=10, description="Connections kept per process.")
    db_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a new PostgreSQL connection may take before the request answers 503.",
    )
    db_statement_timeout: float = Field(
        default=30.0,
        ge=0,
        description="Seconds one SQL statement of the server may run (or wait for a lock) before it is "
        "cancelled and the request answers 503; 0: no limit. PostgreSQL only.",
    )
    db_busy_timeout: float = Field(
        default=10.0,
        ge=0,
        description="Seconds a write may wait for other writers, in all, before it answers 503: SQLite's "
        "write lock, and on both databases new attempts after losing a race.",
    )
    threads: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Threads per process that run database work; requests beyond them wait their turn.",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="Requests a minute one API token may make, per process (429 beyond); 0: no limit.",
    )
    rate_limit_burst: int = Field(
        default=120, ge=1, description="Requests one API token may make at once before the rate applies."
    )
    portal_rate_limit_per_minute: int = Field(
        default=120,
        ge=0,
        description="Requests a minute one portal link key may make, per process (429 beyond); 0: no limit.",
    )
    portal_rate_limit_burst: int = Field(
        default=30, ge=1, description="Requests one portal link key may make at once before the rate applies."
    )
    log_level: str = Field(default="info")
    shutdown_grace: float = Field(
        default=30.0,
        gt=0,
        description="Seconds `dtehub serve` gives requests in flight to finish after SIGTERM or Ctrl-C "
        "(it accepts no new connection meanwhile); then it closes the rest.",
    )
    run_background_jobs: bool = Field(
        default=True,
        description="Whether `dtehub serve` also runs the periodic jobs (reminders, webhook deliveries).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts webhook signing secrets and companies' SII certificates at rest (at "
        "least 32 characters); unset: createWebhook and updateCompanySiiCertificate answer 503, webhooks "
        "are not delivered and SII certificates do not open.",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private, link-local and reserved addresses (tests, labs).",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds one webhook POST may wait to connect, send or read."
    )
    webhook_interval: float = Field(
        default=2.0, gt=0, description="Seconds between runs of the webhook delivery job of `dtehub serve`."
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://[user:password@]host[:587] (STARTTLS), smtps://…[:465] (TLS); unset: .eml files.",
    )
    smtp_ca_bundle: str | None = Field(
        default=None, description="PEM of the authorities trusted for the SMTP server; unset: the system's."
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds an SMTP exchange may stall.")
    mail_from: str = Field(
        default="recordatorios@dtehub.localhost",
        description="The From address of reminders (shown with the company's name).",
    )
    mail_folder: str = Field(
        default="./dtehub-mail",
        description="Where messages are written as .eml files when no SMTP URL is set.",
    )
    reminders_interval: float = Field(
        default=300.0,
        ge=0,
        description="Seconds between two reminder runs of `dtehub serve`; 0: the server sends none.",
    )
    cession_follow_interval: float = Field(
        default=60.0,
        ge=0,
        description="Seconds between two runs of `dtehub serve` that ask SII about the cessions it has not "
        "decided on yet (createCesion); 0: the server does not follow them.",
    )
    reminders_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a run holds the messages it took; a message left sending longer is unknown.",
    )
    reminders_max_attempts: int = Field(
        default=6, ge=1, le=50, description="Sends of a message before it is marked failed."
    )
    reminders_retry_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Wait before the first retry; each further retry waits twice as long.",
    )
    sii_auth_url: str = Field(
        default="https://herculesr.sii.cl",
        description="SII's certificate login host (or the emulator's URL).",
    )
    sii_portal_url: str = Field(
        default="https://www1.sii.cl", description="SII's MIPYME portal host (or the emulator's URL)."
    )
    sii_logout_url: str = Field(
        default="https://zeusr.sii.cl", description="SII's logout host (or the emulator's URL)."
    )
    sii_rcv_url: str = Field(
        default="https://www4.sii.cl",
        description="SII's Registro de Compras y Ventas host (or the emulator's URL).",
    )
    sii_requests_per_second: float = Field(
        default=2.0,
        gt=0,
        le=100,
        description="Requests per second a sync makes to SII's RCV at most (SII publishes no quota).",
    )
    sii_ca_bundle: str | None = Field(
        default=None,
        description="PEM of the authorities trusted for SII's server certificate; unset: the system's.",
    )
    sii_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one MIPYME retrieval may take in all before it answers status 4.",
    )
    sii_session_reuse_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an SII session serves later requests with the same certificate before logout.",
    )
    sii_max_sessions: int = Field(
        default=3,
        ge=1,
        le=10,
        description="SII sessions one person may have open at once per process (SII allows 10 in all).",
    )

    app_idle_minutes: float = Field(
        default=30.0, gt=0, description="Minutes a web app session lasts without a request before it ends."
    )
    app_session_hours: float = Field(
        default=12.0, gt=0, description="Hours a web app session lasts at most, however busy."
    )
    app_sign_in_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per account within the window before sign-in waits."
    )
    app_sign_in_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins per client address within the window before it waits."
    )
    app_sign_in_window_minutes: float = Field(
        default=15.0, gt=0, description="The window of the sign-in limits, in minutes."
    )
    sii_ws_url: str = Field(
        default="https://palena.sii.cl",
        description="SII's web services host: seed, token, RTC (or the emulator's URL).",
    )
    sii_reclamo_url: str = Field(
        default="https://ws1.sii.cl",
        description="SII's acceptance/claim web service host (or the emulator's URL).",
    )
    sii_ws_timeout: float = Field(
        default=30.0, gt=0, description="Seconds one call of SII's web services may take."
    )
    sii_ws_token_lifetime: float = Field(
        default=600.0,
        gt=0,
        description="Seconds an SII token is used before a new one is asked for (one SII refuses is "
        "renewed at once).",
    )

    sii_sync_interval: float = Field(
        default=6 * 3600.0,
        ge=0,
        description="Seconds between two syncs of a company with a stored certificate by `dtehub serve` "
        "(give or take a tenth, so companies drift apart); 0: none are scheduled (syncSii still runs).",
    )
    sii_sync_concurrency: int = Field(
        default=2, ge=1, le=20, description="Companies one `dtehub serve` process syncs with SII at once."
    )
    sii_sync_lease_seconds: float = Field(
        default=120.0,
        ge=10,
        le=3600,
        description="How long a company's SII sync run keeps its lease without a heartbeat (renewed every "
        "quarter of it): a run whose process died is taken over by the next sync after this.",
    )

    @property
    def sii_sync_scheduled(self) -> bool:
        """Whether ``dtehub serve`` syncs companies with SII on its own (:attr:`sii_sync_schedule_words`)."""
        return self.run_background_jobs and self.sii_sync_interval > 0

    @property
    def sii_sync_schedule_words(self) -> str:
        """What ``dtehub serve`` says of its SII sync schedule when it starts."""
        if self.sii_sync_scheduled:
            return f"SII syncs: each company with a certificate every {self.sii_sync_interval:g} s"
        why = (
            "DTEHUB_SII_SYNC_INTERVAL is 0"
            if self.run_background_jobs
            else "DTEHUB_RUN_BACKGROUND_JOBS is off"
        )
        return f"SII syncs: none scheduled ({why}); syncSii and dtehub sii sync still run them"

    def sii_config(self) -> SiiConfig:
        return SiiConfig(
            auth_url=self.sii_auth_url.rstrip("/"),
            portal_url=self.sii_portal_url.rstrip("/"),
            logout_url=self.sii_logout_url.rstrip("/"),
            rcv_url=self.sii_rcv_url.rstrip("/"),
            requests_per_second=self.sii_requests_per_second,
            ca_bundle=self.sii_ca_bundle or None,
            timeout=self.sii_timeout,
            session_reuse_seconds=self.sii_session_reuse_seconds,
            max_sessions_per_holder=self.sii_max_sessions,
        )

    def sii_ws_config(self) -> WsConfig:
        return WsConfig(
            ws_url=self.sii_ws_url.rstrip("/"),
            reclamo_url=self.sii_reclamo_url.rstrip("/"),
            ca_bundle=self.sii_ca_bundle or None,
            timeout=self.sii_ws_timeout,
            token_lifetime=self.sii_ws_token_lifetime,
        )

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def https(self) -> bool:
        """Whether dtehub is reached over HTTPS (its cookies are then ``Secure``)."""
        return self.public_url.lower().startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
