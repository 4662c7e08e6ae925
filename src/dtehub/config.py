"""Settings, read from the environment with the ``DTEHUB_`` prefix."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES
from dtehub.sii.config import SiiConfig


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
    threads: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Threads per process that run database work; requests beyond them wait their turn.",
    )
    log_level: str = Field(default="info")
    run_background_jobs: bool = Field(
        default=True,
        description="Whether `dtehub serve` also runs the periodic jobs (reminders, webhook deliveries).",
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

    def sii_config(self) -> SiiConfig:
        return SiiConfig(
            auth_url=self.sii_auth_url.rstrip("/"),
            portal_url=self.sii_portal_url.rstrip("/"),
            logout_url=self.sii_logout_url.rstrip("/"),
            ca_bundle=self.sii_ca_bundle or None,
            timeout=self.sii_timeout,
            session_reuse_seconds=self.sii_session_reuse_seconds,
            max_sessions_per_holder=self.sii_max_sessions,
        )

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
