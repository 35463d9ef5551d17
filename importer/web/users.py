"""Local accounts: argon2-hashed passwords, an API token per user (only its
SHA-256 is kept: the token is 32 random bytes, so a slow hash adds
nothing), the companies each may use and a role:

- ``own``: their own batches and runs;
- ``company``: every batch and run of their companies;
- ``admin``: everything, every company.

A user added without targets may use the default target only (the one
target of ``vnimport.toml`` when it has exactly one).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from importer.errors import ConfigError
from importer.web.store import ROLES, BatchRecord, LastAdmin, Store, User

__all__ = [
    "add_user",
    "can_see",
    "change_user",
    "check_password",
    "new_token",
    "user_for_token",
]

MIN_PASSWORD = 8
_HASHER = PasswordHasher()
# Checked against when the name is unknown, so that the answer takes as long.
_DUMMY = _HASHER.hash("not a password of anyone")


def add_user(store: Store, name: str, password: str, role: str, targets: list[str]) -> str:
    """Add a user; the API token, to be shown once."""
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(f"a user name is letters, digits, '.', '-' and '_', not {name!r}")
    _check_role(role)
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password has at least {MIN_PASSWORD} characters")
    if store.user(name) is not None:
        raise ConfigError(f"there is a user {name!r} already")
    store.add_user(name, _HASHER.hash(password), role, targets)
    return new_token(store, name)


def change_user(store: Store, name: str, role: str, targets: list[str]) -> None:
    """Give ``name`` a new role and companies (``vnimport users change``,
    the admin page)."""
    _check_role(role)
    try:
        changed = store.set_user(name, role, targets)
    except LastAdmin:
        raise ConfigError(f"{name} is the only admin: make another user admin first") from None
    if not changed:
        raise ConfigError(f"there is no user {name!r}")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ConfigError(f"a role is one of {', '.join(ROLES)}, not {role!r}")


def new_token(store: Store, name: str) -> str:
    """A new API token for ``name`` (the old one stops working)."""
    token = "vni_" + secrets.token_urlsafe(32)
    if not store.set_token(name, _digest(token)):
        raise ConfigError(f"there is no user {name!r}")
    return token


def check_password(store: Store, name: str, password: str) -> User | None:
    stored = store.password_hash(name)
    try:
        _HASHER.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    if _HASHER.check_needs_rehash(stored):
        store.set_password(name, _HASHER.hash(password))
    return store.user(name)


def user_for_token(store: Store, token: str) -> User | None:
    if not token.startswith("vni_"):
        return None
    return store.user_by_token(_digest(token))


def allowed_targets(user: User, names: list[str]) -> list[str]:
    """The targets of ``vnimport.toml`` (``names``) this user may use."""
    if user.role == "admin":
        return list(names)
    if not user.targets:
        return list(names) if len(names) == 1 else []
    return [n for n in names if n in user.targets]


def can_see(user: User, batch: BatchRecord) -> bool:
    if user.role == "admin" or batch.owner == user.name:
        return True
    return user.role == "company" and batch.target in user.targets


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
