"""The users page (``/admin/users``), for the role ``admin`` only: every
user with their role and companies, adding one, changing a role or the
companies, and a new API token (shown once, on the page that made it;
only its hash is kept). It calls what ``vnimport users`` calls
(:mod:`importer.web.users`): one code path. To anyone else the page does
not exist (404).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from importer.errors import ConfigError
from importer.settings import target_names
from importer.web.i18n import gettext
from importer.web.service import Service
from importer.web.store import ROLES, User
from importer.web.users import add_user, change_user, new_token

__all__ = ["admin"]

admin = Blueprint("admin", __name__, url_prefix="/admin")


def _service() -> Service:
    service: Service = current_app.extensions["vnimport"]
    return service


@admin.before_request
def only_admins() -> Any:
    user: User | None = g.get("user")
    if user is None:
        return redirect(url_for("login", next=request.path))
    if user.role != "admin":
        abort(404)
    return None


def _page(error: str = "", token: tuple[str, str] | None = None, status: int = 200) -> Any:
    service = _service()
    users = service.store.users()
    try:
        known = target_names(service.config)
    except ConfigError:
        known = []
    # a company a user has that vnimport.toml no longer names is still shown
    targets = list(dict.fromkeys([*known, *(t for u in users for t in u.targets)]))
    return render_template(
        "users.html",
        users=users,
        roles=ROLES,
        targets=targets,
        error=error,
        token=token,
        form=request.form if error else {},
    ), status


def _targets() -> list[str]:
    return [t for t in request.form.getlist("targets") if t]


@admin.get("/users")
def users() -> Any:
    return _page()


@admin.post("/users")
def add() -> Any:
    name = request.form.get("name", "").strip()
    try:
        token = add_user(
            _service().store,
            name,
            request.form.get("password", ""),
            request.form.get("role", "own"),
            _targets(),
        )
    except ConfigError as exc:
        return _page(error=gettext("Not added: {reason}.", reason=str(exc)), status=400)
    return _page(token=(name, token), status=201)


@admin.post("/users/<name>")
def change(name: str) -> Any:
    store = _service().store
    user = store.user(name)
    if user is None:
        abort(404)
    role = request.form.get("role", user.role)
    try:
        change_user(store, name, role, _targets())
    except ConfigError as exc:
        return _page(error=gettext("Not changed: {reason}.", reason=str(exc)), status=400)
    return redirect(url_for("admin.users"), 303)


@admin.post("/users/<name>/token")
def token(name: str) -> Any:
    try:
        made = new_token(_service().store, name)
    except ConfigError:
        abort(404)
    return _page(token=(name, made))
