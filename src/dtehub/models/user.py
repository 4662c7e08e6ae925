from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class Role(enum.StrEnum):
    """What a member may do in a company: each role can do everything of the ones below it."""

    VIEWER = "viewer"  # reads
    COLLECTOR = "collector"  # payments, reminders, notes, tags, imports, SII sync
    OWNER = "owner"  # everything: users, settings, API tokens

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.COLLECTOR: 1, Role.OWNER: 2}


class User(Base):
    """A person who signs in to the web app (``/app``) with an e-mail and a password.

    ``password_hash`` is argon2id (:mod:`dtehub.users.passwords`); null until the person sets one
    through a one-time link. ``totp_secret`` is the second factor's secret, sealed (AES-GCM) under a
    key derived from ``DTEHUB_SECRET_KEY``; it counts once ``totp_enabled_at`` is set.
    """

    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[IdPk]
    email: Mapped[str] = mapped_column(String(254), unique=True, comment="Lowercase")
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None, comment="argon2id")
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_secret: Mapped[bytes | None] = mapped_column(
        LargeBinary, default=None, comment="Sealed with a key derived from DTEHUB_SECRET_KEY"
    )
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's role in one company."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_company_id", "company_id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), comment="owner, collector or viewer")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, this row its SHA-256 only.

    It ends when signed out, after ``DTEHUB_APP_IDLE_MINUTES`` without a request, 12 hours after it
    began, or at once when its user changes password or is disabled (the rows are deleted).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"), {"sqlite_autoincrement": True})

    id: Mapped[IdPk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), comment="The company being worked on"
    )
    second_factor_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="When the TOTP code was checked in this session"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserLink(Base):
    """A one-time link sent to a person: set a first password, reset it, or accept an invitation.
    Only its SHA-256 is stored; it works once, before ``expires_at``."""

    __tablename__ = "user_links"
    __table_args__ = (Index("ix_user_links_user_id", "user_id"), {"sqlite_autoincrement": True})

    id: Mapped[IdPk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16), comment="password, reset or invite")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInFailure(Base):
    """A failed sign-in, counted against its account (the e-mail's hash, known or not) and its
    address: too many within the window and sign-in waits (:mod:`dtehub.users.service`)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_subject", "subject", "failed_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    subject: Mapped[str] = mapped_column(String(80), comment="account:<sha256 of the e-mail> or address:<ip>")
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
