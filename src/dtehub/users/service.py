"""People of the web app: users, their companies and roles, sign-in (throttled), sessions, one-time
links and the second factor. Services never commit; every time comes in as ``now``, so that tests
drive the clock.

Sign-in answers the same for a wrong password and an unknown e-mail, and counts both against the
account (the e-mail, known or not) and the address: past ``DTEHUB_APP_SIGN_IN_FAILURES`` (or
``…_PER_ADDRESS``) failures within ``DTEHUB_APP_SIGN_IN_WINDOW_MINUTES`` it waits, even for the right
password. A session ends when signed out, idle for ``DTEHUB_APP_IDLE_MINUTES``, ``…_SESSION_HOURS``
after it began, or at once when its user changes password or is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from dtehub.config import Settings
from dtehub.errors import BadRequest, Conflict, Forbidden, NotFound
from dtehub.kit.secrets import hash_token
from dtehub.models import Membership, Role, SignInFailure, User, UserLink, UserSession
from dtehub.users import passwords, repository, totp
from dtehub.users.repository import CompanyOfUser

LINK_HOURS = 24
_TOUCH_EVERY = timedelta(seconds=60)
"""``last_seen_at`` is written at most this often: a page view needs no write each time."""


class LinkPurpose:
    PASSWORD = "password"  # noqa: S105 (a purpose, not a secret): a first password (CLI, demo)
    RESET = "reset"
    INVITE = "invite"


def normalize_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise BadRequest(
            f"{text.strip()[:80]!r} no es una dirección de correo válida", field="email"
        ) from None


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise BadRequest("the role must be owner, collector or viewer", field="role") from None


# --- users and memberships ------------------------------------------------------------------------


def find_user(session: Session, email: str) -> User:
    found = repository.user_by_email(session, normalize_email(email))
    if found is None:
        raise NotFound(f"no user with the e-mail {email.strip()[:80]}", field="email")
    return found


def create_user(session: Session, email: str, *, name: str = "") -> User:
    address = normalize_email(email)
    if repository.user_by_email(session, address) is not None:
        raise Conflict(f"a user with the e-mail {address} exists already", field="email")
    user = User(email=address, name=name.strip()[:255])
    repository.add(session, user)
    session.flush()
    return user


def grant(session: Session, user: User, company_id: int, role: Role) -> None:
    """The user's role in the company: added, or changed when the user is a member already."""
    found = repository.membership(session, user.id, company_id)
    if found is None:
        repository.add(session, Membership(user_id=user.id, company_id=company_id, role=role.value))
    else:
        found.role = role.value
    session.flush()


def companies_of(session: Session, user_id: int) -> list[CompanyOfUser]:
    return repository.companies_of(session, user_id)


def set_password(session: Session, user: User, password: str, now: datetime) -> None:
    """A new password: every session of the user ends and every link still open stops working."""
    passwords.check_new(password)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    repository.delete_sessions_of(session, user.id)
    repository.close_links(session, user.id, now)
    session.flush()


def change_password(session: Session, user_id: int, current: str, new: str, now: datetime) -> None:
    user = repository.user(session, user_id)
    assert user is not None
    if not passwords.verify(user.password_hash, current):
        raise BadRequest("la contraseña actual no es correcta", field="current")
    set_password(session, user, new, now)


def disable(session: Session, user: User, now: datetime) -> list[int]:
    """Disable the user: its sessions end at once. Answers the companies it was a member of."""
    user.disabled_at = user.disabled_at or now
    repository.delete_sessions_of(session, user.id)
    repository.close_links(session, user.id, now)
    session.flush()
    return [company.company_id for company in repository.companies_of(session, user.id)]


# --- one-time links -------------------------------------------------------------------------------


def issue_link(
    session: Session, user: User, purpose: str, now: datetime, *, hours: float = LINK_HOURS
) -> str:
    """A link token (256 random bits, shown once, stored as its SHA-256), valid for ``hours``."""
    token = secrets.token_urlsafe(32)
    repository.add(
        session,
        UserLink(
            token_hash=hash_token(token),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        ),
    )
    session.flush()
    return token


def open_link(session: Session, token: str, now: datetime) -> tuple[UserLink, User]:
    """The link and its user; a used, expired, unknown or disabled user's link is one same 404."""
    found = repository.link(session, hash_token(token))
    user = repository.user(session, found.user_id) if found is not None else None
    if found is None or user is None or found.used_at is not None or found.expires_at <= now:
        raise NotFound("el enlace no existe, ya se usó o venció")
    if user.disabled_at is not None:
        raise NotFound("el enlace no existe, ya se usó o venció")
    return found, user


def use_link(session: Session, token: str, password: str, now: datetime) -> User:
    """Set the password through a link; the link (and any other open one) is used up."""
    link, user = open_link(session, token, now)
    set_password(session, user, password, now)
    link.used_at = now
    return user


# --- sign-in --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the user, or None (wrong password and unknown e-mail alike),
    and, when throttled, the seconds to wait."""

    user: User | None
    retry_after: int | None = None


def _subjects(email: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"account:{account}", f"address:{address[:60]}"


def throttled(session: Session, email: str, address: str, now: datetime, settings: Settings) -> int | None:
    """Seconds to wait before the account (the e-mail, known or not) or the address may try again;
    None when they may try now."""
    account, place = _subjects(email, address)
    window = timedelta(minutes=settings.app_sign_in_window_minutes)
    recent = repository.failures_since(session, (account, place), now - window)
    waits = []
    for subject, limit in (
        (account, settings.app_sign_in_failures),
        (place, settings.app_sign_in_failures_per_address),
    ):
        failures = recent[subject]
        if len(failures) >= limit:
            waits.append(failures[len(failures) - limit] + window - now)
    return max(1, math.ceil(max(waits).total_seconds())) if waits else None


def record_failure(session: Session, email: str, address: str, now: datetime, settings: Settings) -> None:
    """One failure more against the account and the address (the caller commits it: the answer is a
    page, not an error)."""
    window = timedelta(minutes=settings.app_sign_in_window_minutes)
    for subject in _subjects(email, address):
        repository.add(session, SignInFailure(subject=subject, failed_at=now))
    repository.prune_failures(session, now - 2 * window)  # keeps the table small
    session.flush()


def sign_in(
    session: Session, email: str, password: str, address: str, now: datetime, settings: Settings
) -> SignIn:
    """Check an e-mail and password. Failures are recorded; while throttled, even the right password
    waits."""
    wait = throttled(session, email, address, now, settings)
    if wait is not None:
        return SignIn(None, retry_after=wait)
    user = repository.user_by_email(session, email.strip().lower()[:254])
    matched = passwords.verify(user.password_hash if user is not None else None, password)
    if user is None or not matched or user.disabled_at is not None:
        record_failure(session, email, address, now, settings)
        return SignIn(None)
    assert user.password_hash is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    repository.forget_failures(session, _subjects(email, address)[0])
    session.flush()
    return SignIn(user)


# --- sessions -------------------------------------------------------------------------------------


def csrf_token_of(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret token, so it is never stored and no one
    without the cookie can compute it."""
    return hmac.new(session_token.encode("ascii"), b"dtehub csrf v1", hashlib.sha256).hexdigest()


def start_session(session: Session, user: User, now: datetime, company_id: int | None = None) -> str:
    """A new session of the user on ``company_id`` when given (a member's), else on the company the
    user was first given a role in; its token."""
    chosen = company_id if company_id and repository.membership(session, user.id, company_id) else None
    chosen = chosen or repository.home_company(session, user.id)
    if chosen is None:
        raise Forbidden("el usuario no pertenece a ninguna empresa")
    token = secrets.token_urlsafe(32)
    repository.add(
        session,
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            company_id=chosen,
            created_at=now,
            last_seen_at=now,
        ),
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Staff:
    """Who is signed in, and on which company: what every ``/app`` page knows of its caller."""

    session_id: int
    user_id: int
    email: str
    name: str
    company_id: int
    role: Role
    csrf_token: str
    second_factor_needed: bool
    """The company requires a TOTP code (or the user has one) and this session has not given it yet."""
    totp_enabled: bool

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


class SessionEnded(Exception):
    """No live session: ``expired`` tells a timeout (the page says so) from no session at all."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "none")
        self.expired = expired


def resolve(session: Session, token: str | None, now: datetime, settings: Settings) -> Staff:
    """The live session of a cookie's token, touched; :class:`SessionEnded` otherwise (an expired one
    is deleted)."""
    if not token:
        raise SessionEnded(expired=False)
    found = repository.live_session(session, hash_token(token))
    if found is None:
        raise SessionEnded(expired=False)
    idle = now - found.last_seen_at > timedelta(minutes=settings.app_idle_minutes)
    old = now - found.created_at > timedelta(hours=settings.app_session_hours)
    if idle or old:
        repository.delete_session(session, found.session_id)
        raise SessionEnded(expired=True)
    role = found.role
    if role is None:  # no longer a member of this company: on to another one, if any
        others = repository.companies_of(session, found.user_id)
        if not others:
            repository.delete_session(session, found.session_id)
            raise SessionEnded(expired=False)
        repository.set_session_company(session, found.session_id, others[0].company_id)
        found = found._replace(
            company_id=others[0].company_id, role=others[0].role, require_totp=others[0].require_totp
        )
        role = others[0].role
    if now - found.last_seen_at >= _TOUCH_EVERY:
        repository.touch_session(session, found.session_id, now)
    needs_code = (found.require_totp or found.totp_enabled) and found.second_factor_at is None
    return Staff(
        session_id=found.session_id,
        user_id=found.user_id,
        email=found.email,
        name=found.name,
        company_id=found.company_id,
        role=Role(role),
        csrf_token=csrf_token_of(token),
        second_factor_needed=needs_code,
        totp_enabled=found.totp_enabled,
    )


def still_working_on(session: Session, token: str | None, company_id: int) -> bool:
    """Whether the session of a long answer (an export, read in batches) still works on the company: not
    ended, its user not disabled, still a member. Its idle time is not asked: the answer is activity."""
    found = repository.live_session(session, hash_token(token)) if token else None
    return found is not None and found.company_id == company_id and found.role is not None


def end_session(session: Session, staff: Staff) -> None:
    repository.delete_session(session, staff.session_id)


def switch_company(session: Session, staff: Staff, company_id: int) -> None:
    """Work on another of the user's companies; another one is exactly a missing one."""
    if repository.membership(session, staff.user_id, company_id) is None:
        raise NotFound("no such company")
    repository.set_session_company(session, staff.session_id, company_id)


# --- the second factor ----------------------------------------------------------------------------


def begin_totp(session: Session, user_id: int, settings: Settings) -> str:
    """A new secret for the user's authenticator (not in force until a code confirms it); the
    ``otpauth://`` URI to enter in the app."""
    box = totp.totp_box(settings)
    user = repository.user(session, user_id)
    assert user is not None
    secret = totp.new_secret()
    user.totp_secret = box.seal(secret, user.id)
    user.totp_enabled_at = None
    session.flush()
    return secret


def pending_totp_secret(session: Session, user_id: int, settings: Settings) -> str | None:
    user = repository.user(session, user_id)
    if user is None or user.totp_secret is None:
        return None
    return totp.totp_box(settings).open(user.totp_secret, user.id)


def confirm_totp(session: Session, staff: Staff, code: str, now: datetime, settings: Settings) -> bool:
    """Put the second factor in force with a first code from the authenticator."""
    secret = pending_totp_secret(session, staff.user_id, settings)
    if secret is None or not totp.code_matches(secret, code, now):
        return False
    user = repository.user(session, staff.user_id)
    assert user is not None
    user.totp_enabled_at = now
    repository.set_second_factor(session, staff.session_id, now)
    session.flush()
    return True


def check_second_factor(session: Session, staff: Staff, code: str, now: datetime, settings: Settings) -> bool:
    user = repository.user(session, staff.user_id)
    if user is None or user.totp_enabled_at is None:
        return False
    secret = pending_totp_secret(session, staff.user_id, settings)
    if secret is None or not totp.code_matches(secret, code, now):
        return False
    repository.set_second_factor(session, staff.session_id, now)
    return True


def provisioning_uri(secret: str, email: str) -> str:
    return totp.provisioning_uri(secret, email)


def require_totp(session: Session, company_id: int, required: bool, settings: Settings) -> None:
    """Require a second factor of every member (or stop). Refused (:class:`SecretKeyMissing`, nothing
    changed) without the key that keeps TOTP secrets: no member could enroll, the owner included, and
    everyone would be locked out of the app."""
    if required:
        totp.totp_box(settings)
    repository.set_require_totp(session, company_id, required)


RESET_HOURS = 1


def request_reset(session: Session, email: str, now: datetime) -> tuple[User, str] | None:
    """A reset link for the user with this e-mail (valid one hour); None when there is no such user
    (or it is disabled): the caller answers the same either way."""
    user = repository.user_by_email(session, email.strip().lower()[:254])
    if user is None or user.disabled_at is not None:
        return None
    return user, issue_link(session, user, LinkPurpose.RESET, now, hours=RESET_HOURS)


def invite(
    session: Session, company_id: int, email: str, role: Role, now: datetime
) -> tuple[User, str | None]:
    """Give ``email`` the role in the company: a new user gets a link to choose a password (24 h); a
    user who exists already only the role."""
    address = normalize_email(email)
    user = repository.user_by_email(session, address)
    token = None
    if user is None:
        user = create_user(session, address)
        token = issue_link(session, user, LinkPurpose.INVITE, now)
    elif user.disabled_at is not None:
        raise Conflict(f"el usuario {address} está deshabilitado", field="email")
    grant(session, user, company_id, role)
    return user, token


def members(session: Session, company_id: int) -> list[tuple[User, str]]:
    return repository.members_of(session, company_id)


def _member(session: Session, company_id: int, user_id: int) -> tuple[User, Membership]:
    """A member of the company; anyone else (another company's user, no user) is :class:`NotFound`."""
    found = repository.membership(session, user_id, company_id)
    user = repository.user(session, user_id) if found is not None else None
    if found is None or user is None:
        raise NotFound("no such member of the company", field="user")
    return user, found


def _keep_an_owner(session: Session, company_id: int, user_id: int) -> None:
    owners = repository.owners_locked(session, company_id)
    if owners == [user_id]:
        raise Conflict("the company's last owner cannot stop being one", field="role")


def change_role(session: Session, company_id: int, user_id: int, role: Role) -> tuple[User, str]:
    """Another role for a member (its previous one answered); never the company's last owner's."""
    user, membership = _member(session, company_id, user_id)
    before = membership.role
    if before == Role.OWNER.value and role != Role.OWNER:
        _keep_an_owner(session, company_id, user_id)
    membership.role = role.value
    session.flush()
    return user, before


def remove_member(session: Session, company_id: int, user_id: int) -> tuple[User, str]:
    """The member leaves the company (its sessions on it move to another of its companies, or end, at
    their next request); never the company's last owner."""
    user, membership = _member(session, company_id, user_id)
    role = membership.role
    if role == Role.OWNER.value:
        _keep_an_owner(session, company_id, user_id)
    repository.delete_membership(session, user_id, company_id)
    session.flush()
    return user, role
