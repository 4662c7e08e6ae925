"""Every query of users, memberships, sessions, one-time links and sign-in failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from dtehub.models import Company, Membership, SignInFailure, User, UserLink, UserSession


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def add(session: Session, row: User | Membership | UserSession | UserLink | SignInFailure) -> None:
    session.add(row)


def membership(session: Session, user_id: int, company_id: int) -> Membership | None:
    return session.get(Membership, (user_id, company_id))


class CompanyOfUser(NamedTuple):
    company_id: int
    rut: str
    name: str
    role: str
    require_totp: bool


def companies_of(session: Session, user_id: int) -> list[CompanyOfUser]:
    """The user's companies with the role in each, by name."""
    rows = session.execute(
        select(Company.id, Company.rut, Company.name, Membership.role, Company.require_totp)
        .join(Membership, Membership.company_id == Company.id)
        .where(Membership.user_id == user_id)
        .order_by(Company.name, Company.id)
    ).all()
    return [CompanyOfUser(*row) for row in rows]


def home_company(session: Session, user_id: int) -> int | None:
    """The company a session starts on: the user's first membership."""
    return session.scalar(
        select(Membership.company_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at, Membership.company_id)
        .limit(1)
    )


def members_of(session: Session, company_id: int) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id)
        .order_by(User.email)
    ).all()
    return [(row[0], row[1]) for row in rows]


class LiveSession(NamedTuple):
    session_id: int
    user_id: int
    email: str
    name: str
    company_id: int
    role: str | None
    """None once the user is no longer a member of the session's company."""
    second_factor_at: datetime | None
    totp_enabled: bool
    require_totp: bool
    created_at: datetime
    last_seen_at: datetime


def live_session(session: Session, token_hash: str) -> LiveSession | None:
    """The session with this token of a user who is not disabled, with the user's role in its company."""
    row = session.execute(
        select(
            UserSession.id,
            User.id,
            User.email,
            User.name,
            UserSession.company_id,
            Membership.role,
            UserSession.second_factor_at,
            User.totp_enabled_at.is_not(None),
            Company.require_totp,
            UserSession.created_at,
            UserSession.last_seen_at,
        )
        .join(User, User.id == UserSession.user_id)
        .join(Company, Company.id == UserSession.company_id)
        .outerjoin(
            Membership,
            (Membership.user_id == UserSession.user_id) & (Membership.company_id == UserSession.company_id),
        )
        .where(UserSession.token_hash == token_hash, User.disabled_at.is_(None))
    ).first()
    return LiveSession(*row) if row is not None else None


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def set_session_company(session: Session, session_id: int, company_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(company_id=company_id))


def set_second_factor(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(second_factor_at=now))


def delete_session(session: Session, session_id: int) -> None:
    session.execute(delete(UserSession).where(UserSession.id == session_id))


def delete_sessions_of(session: Session, user_id: int) -> int:
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def sessions_count(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).where(UserSession.user_id == user_id)) or 0)


def link(session: Session, token_hash: str) -> UserLink | None:
    return session.scalars(select(UserLink).where(UserLink.token_hash == token_hash)).first()


def close_links(session: Session, user_id: int, now: datetime) -> None:
    """Every unused link of the user stops working (a password set, or the user disabled)."""
    session.execute(
        update(UserLink).where(UserLink.user_id == user_id, UserLink.used_at.is_(None)).values(used_at=now)
    )


def failures_since(session: Session, subjects: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
    """The failed sign-ins of each subject since ``since``, oldest first."""
    rows = session.execute(
        select(SignInFailure.subject, SignInFailure.failed_at)
        .where(SignInFailure.subject.in_(subjects), SignInFailure.failed_at >= since)
        .order_by(SignInFailure.failed_at)
    ).all()
    found: dict[str, list[datetime]] = {subject: [] for subject in subjects}
    for subject, failed_at in rows:
        found[subject].append(failed_at)
    return found


def forget_failures(session: Session, subject: str, before: datetime | None = None) -> None:
    statement = delete(SignInFailure).where(SignInFailure.subject == subject)
    if before is not None:
        statement = statement.where(SignInFailure.failed_at < before)
    session.execute(statement)


def prune_failures(session: Session, before: datetime) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at < before))


def set_require_totp(session: Session, company_id: int, required: bool) -> None:
    session.execute(update(Company).where(Company.id == company_id).values(require_totp=required))


def owners_locked(session: Session, company_id: int) -> list[int]:
    """The company's owners (user ids), their rows locked until the transaction ends: two owners
    changing each other's roles at once cannot both leave the company without one."""
    return list(
        session.scalars(
            select(Membership.user_id)
            .where(Membership.company_id == company_id, Membership.role == "owner")
            .order_by(Membership.user_id)
            .with_for_update()
        ).all()
    )


def delete_membership(session: Session, user_id: int, company_id: int) -> None:
    session.execute(
        delete(Membership).where(Membership.user_id == user_id, Membership.company_id == company_id)
    )
