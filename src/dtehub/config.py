"""Settings, read from the environment with the ``DTEHUB_`` prefix."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES


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

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
