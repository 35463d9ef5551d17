"""The pages: sign in, choose the company and upload, check, import, result.

Every page is rendered on the server and works without JavaScript; htmx
(vendored, ``static/``) only replaces the progress box in place instead of
the page's ``<meta refresh>``. Every POST form carries the session's CSRF
token; the API (:mod:`importer.web.api`) takes a bearer token instead and
no cookie.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from importer.doctypes import Registry
from importer.web.batches import SUFFIXES, UploadError
from importer.web.cleanup import Cleanup, is_deleted
from importer.web.files import Files
from importer.web.i18n import (
    LANGUAGES,
    action_kind,
    counts_shown,
    gettext,
    language,
    role_name,
    run_status,
    said,
    status_shown,
    status_title,
    undo_status,
)
from importer.web.kept import check_key, download, import_local, report_key
from importer.web.limits import MAX_ROWS_KEY, SignInLimiter
from importer.web.runs import Runner, Spawn
from importer.web.service import Service
from importer.web.store import Store, User, server_name, store_spec
from importer.web.users import can_see, check_password, user_for_token

__all__ = ["create_app"]

MAX_UPLOAD = 25 * 1024 * 1024
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("vnimport.web")


def create_app(
    data: Path,
    config: Path | None = None,
    *,
    max_upload: int = MAX_UPLOAD,
    behind_tls: bool = False,
    registry: Registry | None = None,
    spawn: Spawn | None = None,
    max_rows: int = 100_000,
    keep_uploads: float = 7 * 86400,
    trusted_header: str = "",
    session_hours: float = 12,
    clock: Callable[[], float] = time.time,
    store: str = "",
) -> Flask:
    """The app over the data folder ``data`` (users, batches, uploads,
    reports) and the targets of ``config`` (``vnimport.toml``).
    ``behind_tls``: a reverse proxy terminates TLS (cookies are Secure and
    its ``X-Forwarded-*`` headers are trusted). ``max_rows``: the most data
    rows an upload may have; ``keep_uploads``: seconds an upload is kept
    (:mod:`importer.web.cleanup`; 0: for ever); ``trusted_header``: the
    header a reverse proxy names the signed-in user with (empty: none is
    trusted); ``session_hours``: how long a sign-in lasts; ``clock``: the
    time (tests give their own); ``store``: ``[serve] store``, the
    database of the records and files (:func:`~importer.web.store.store_spec`:
    empty, the default journal's when it is PostgreSQL, else
    ``web.sqlite`` in ``data``, whose ``files/`` is then this machine's
    copies of the files only)."""
    app = Flask(__name__)
    data = data.resolve()
    records = Store(store_spec(data, store), server=server_name(data))
    records.interrupt_unfinished()
    files = Files(records.db, data / "files")
    moved = import_local(files, data)  # a data folder of the files before
    if moved:
        log.info("stored the %d files of %s in %s", moved, data, records.where)
    config = (config or Path("vnimport.toml")).resolve()
    runner = Runner(records, files, config, spawn)
    service = Service(records, runner, data, config, registry or Registry())
    app.config.update(
        SECRET_KEY=_secret_key(records, data / "secret_key"),
        MAX_CONTENT_LENGTH=max_upload,
        MAX_FORM_PARTS=20,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=behind_tls,
        SESSION_COOKIE_NAME="vnimport_session",
    )
    app.config[MAX_ROWS_KEY] = max_rows
    app.extensions["vnimport.cleanup"] = Cleanup(records, files, keep_uploads, clock)
    app.extensions["vnimport.signin"] = SignInLimiter(clock)
    app.extensions["vnimport.platform"] = _Platform(trusted_header, session_hours * 3600, clock)
    if behind_tls:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.extensions["vnimport"] = service

    from importer.web.api import api

    app.register_blueprint(api)
    app.jinja_env.globals["_"] = gettext
    app.jinja_env.filters["said"] = said
    app.jinja_env.filters["status"] = status_shown
    app.jinja_env.filters["status_title"] = status_title
    app.jinja_env.filters["counts"] = counts_shown
    app.jinja_env.filters["run_status"] = run_status
    app.jinja_env.filters["role"] = role_name
    app.jinja_env.filters["action_kind"] = action_kind
    app.jinja_env.filters["undo_status"] = undo_status
    _routes(app, service)
    from importer.web import history

    history.routes(app, service)  # stop, resume, run history, reconcile, undo
    from importer.web import inbound

    inbound.routes(app, service)  # sheet and header row, columns, company check, cell edits
    from importer.web.admin import admin

    app.register_blueprint(admin)  # the users page, for admins
    return app


class _Platform:
    """How users are signed in: the trusted header, how long a session
    lasts, the clock."""

    def __init__(self, header: str, session_s: float, clock: Callable[[], float]) -> None:
        self.header = header
        self.session_s = session_s
        self.clock = clock


def _secret_key(records: Store, old: Path) -> bytes:
    """The key that signs the session cookies, kept with the records, so
    that a restart signs nobody out and every server on one database takes
    the others' cookies. A data folder's own key from before (``old``) is
    the one kept, if the database has none yet."""
    first = old.read_bytes() if old.is_file() else secrets.token_bytes(32)
    return records.secret("session", first)


def _user() -> User:
    return cast(User, g.user)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _routes(app: Flask, service: Service) -> None:
    platform: _Platform = app.extensions["vnimport.platform"]

    @app.before_request
    def load_user() -> None:
        g.user = None
        g.signed_in_by_proxy = False
        if request.blueprint == "api" or request.endpoint == "static":
            return  # the API signs in with its bearer token only, never a header
        name = session.get("user")
        since = float(session.get("since", 0))
        if name and (
            platform.clock() - since > platform.session_s  # older than session_hours
            or since <= service.store.signed_out_at(name)  # ended by Sign out, anywhere
        ):
            session.clear()
            name = None
        if name:
            g.user = service.store.user(name)
        remote = request.headers.get(platform.header, "").strip() if platform.header else ""
        if remote:
            g.user = service.store.user(remote)
            g.signed_in_by_proxy = True
            if g.user is None:  # never made here: a user and their companies are an admin's
                abort(
                    403,
                    gettext(
                        "Your organisation's sign-in names you {name}, and this app has no "
                        "user of that name: ask an administrator to add you.",
                        name=remote,
                    ),
                )
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
            if not secrets.compare_digest(str(sent), str(session["csrf"])):
                abort(
                    400,
                    gettext(
                        "The form has expired or did not come from this site: "
                        "go back, reload the page and try again."
                    ),
                )

    @app.before_request
    def guard_batch_posts() -> None:
        """Every POST on a batch or a run, pages and API alike: a user who
        may no longer use the batch's company changes nothing there (they
        may still see their own batches, and stop a run); a batch whose
        file the clean-up deleted cannot be checked again or imported (its
        page says why). A batch the user may not see is left to the route,
        which answers 404."""
        args = request.view_args or {}
        if request.method != "POST" or not (args.get("batch_id") or args.get("run_id")):
            return
        if args.get("batch_id"):
            batch = service.store.batch(str(args["batch_id"]))
        else:
            run = service.store.run(str(args["run_id"]))
            batch = service.store.batch(run.batch_id) if run is not None else None
        user = g.get("user")
        if request.blueprint == "api":
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            user = (
                user_for_token(service.store, token.strip()) if scheme.lower() == "bearer" else None
            )
        if batch is None or user is None or not can_see(user, batch):
            return
        stopping = (request.endpoint or "").endswith("stop")
        if not stopping and batch.target not in service.targets_for(user):
            abort(
                403,
                gettext(
                    "You may no longer use the company {target}: nothing is done there. "
                    "Ask an administrator if you should.",
                    target=batch.target,
                ),
            )
        if args.get("batch_id") and is_deleted(batch):
            abort(410, _deleted_message())

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":  # pages, downloads, the API's answers
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def common() -> dict[str, Any]:
        return {
            "user": g.get("user"),
            "signed_in_by_proxy": g.get("signed_in_by_proxy", False),
            "csrf_token": session.get("csrf", ""),
            "lang": language(),
            "languages": LANGUAGES,
            "deleted_notice": _deleted_notice(service),
        }

    @app.post("/language")
    def choose_language() -> Any:
        """The language chosen at the foot of a page, for this session."""
        if request.form.get("lang") in LANGUAGES:
            session["lang"] = request.form["lang"]
        return redirect(_safe_next(request.form.get("next")) or url_for("home"), 303)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        too_many_parts = (request.content_length or 0) <= app.config["MAX_CONTENT_LENGTH"]
        if isinstance(exc, RequestEntityTooLarge) and too_many_parts:
            message = gettext("The form has more parts than this server takes: send one file.")
        elif isinstance(exc, RequestEntityTooLarge):
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024) or 1
            message = gettext(
                "The file is too large: this server takes files up to {limit} MB.", limit=limit
            )
        elif exc.description and exc.description != type(exc).description:
            message = exc.description  # our own, in the reader's language
        else:  # Werkzeug's stock text, in English: ours instead
            message = _http_message(exc)
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "-")
            return {"error": {"code": code, "message": message}}, exc.code
        return render_template("error.html", title=_http_title(exc), message=message), exc.code

    limiter: SignInLimiter = app.extensions["vnimport.signin"]

    @app.get("/login")
    def login() -> Any:
        if g.user is not None and g.signed_in_by_proxy:
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
        return render_template("login.html", next=_safe_next(request.args.get("next")))

    @app.post("/login")
    def login_post() -> Any:
        name = request.form.get("name", "")
        shown_next = _safe_next(request.form.get("next"))
        until = limiter.blocked_until(name)
        if until is not None:  # the password is not even checked
            return render_template(
                "login.html",
                error=gettext(
                    "Too many failed sign-ins for this name: wait until {time} and try again.",
                    time=_clock_time(until),
                ),
                name=name,
                next=shown_next,
            ), 429
        user = check_password(service.store, name, request.form.get("password", ""))
        if user is None:
            limiter.failed(name)
            return render_template(
                "login.html", error=gettext("Wrong name or password."), name=name, next=shown_next
            ), 401
        limiter.succeeded(name)
        session.clear()  # a new session: none fixed beforehand survives
        session["user"] = user.name
        session["since"] = platform.clock()
        session["csrf"] = secrets.token_urlsafe(32)
        return redirect(_safe_next(request.form.get("next")) or url_for("home"), 303)

    @app.post("/logout")
    def logout() -> Any:
        """Ends every session of the user, this cookie's and any copy of
        it (another browser, a stolen one): the cookie alone is no proof
        of a session once its user signed out."""
        name = session.get("user")
        if name:
            service.store.sign_out(str(name), platform.clock())
        session.clear()
        return redirect(url_for("login"), 303)

    @app.get("/")
    @login_required
    def home() -> Any:
        return _home(service)

    @app.post("/batches")
    @login_required
    def upload() -> Any:
        file = request.files.get("file")
        mapping = request.files.get("mapping")
        try:
            if file is None or not file.filename:
                raise UploadError("no-file", "Choose a file to upload.")
            batch = service.new_batch(
                _user(),
                file.stream,
                file.filename,
                request.form.get("target", ""),
                request.form.get("type", ""),
                mapping.stream if mapping is not None and mapping.filename else None,
                keep_unchecked=True,  # a file read, not checked: its sheet and columns to choose
            )
        except UploadError as exc:
            return _home(service, error=str(exc)), 400
        return redirect(url_for("batch_page", batch_id=batch.id), 303)

    @app.get("/batches/<batch_id>")
    @login_required
    def batch_page(batch_id: str) -> Any:
        from importer.web.inbound import render_batch

        return render_batch(service, service.visible_batch(_user(), batch_id))

    @app.post("/batches/<batch_id>/type")
    @login_required
    def batch_type(batch_id: str) -> Any:
        batch = service.visible_batch(_user(), batch_id)
        try:
            service.recheck(batch, request.form.get("type", ""))
        except UploadError as exc:
            return render_template(
                "error.html", title=gettext("Cannot check"), message=str(exc)
            ), 400
        return redirect(url_for("batch_page", batch_id=batch.id), 303)

    @app.get("/batches/<batch_id>/fixme.xlsx")
    @login_required
    def batch_fixme(batch_id: str) -> Any:
        batch = service.visible_batch(_user(), batch_id)
        return _download(service, check_key(batch.id), "fixme.xlsx", batch.filename)

    @app.post("/batches/<batch_id>/run")
    @login_required
    def batch_run(batch_id: str) -> Any:
        batch = service.visible_batch(_user(), batch_id)
        try:
            run, _ = service.start_run(_user(), batch, request.form.get("mode", "create"))
        except UploadError as exc:
            return render_template(
                "error.html", title=gettext("Cannot import"), message=str(exc)
            ), 400
        return redirect(url_for("run_page", run_id=run.id), 303)

    @app.get("/runs/<run_id>")
    @login_required
    def run_page(run_id: str) -> Any:
        run, batch = service.visible_run(_user(), run_id)
        return render_template(
            "run.html",
            run=run,
            batch=batch,
            s=run.summary,
            progress=service.progress(run),
            active=run.status in ("queued", "running"),
        )

    @app.get("/runs/<run_id>/progress")
    @login_required
    def run_progress(run_id: str) -> Any:
        run, _ = service.visible_run(_user(), run_id)
        if run.status not in ("queued", "running"):
            return poll_ended(url_for("run_page", run_id=run.id))
        return render_template("progress.html", run=run, progress=service.progress(run))

    @app.get("/runs/<run_id>/<name>")
    @login_required
    def run_file(run_id: str, name: str) -> Any:
        run, batch = service.visible_run(_user(), run_id)
        return _download(service, report_key(run.id), name, batch.filename)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        """What a browser asks for by itself: the icon the pages name."""
        return redirect(url_for("static", filename="favicon.svg"), 301)

    @app.get("/templates/<doctype>.xlsx")
    @login_required
    def template(doctype: str) -> Any:
        if doctype not in service.registry.names():
            abort(404)
        path = service.template(doctype, request.args.get("lang", "en"))
        return send_file(path, as_attachment=True, download_name=f"{doctype}.xlsx")


def _clock_time(when: float) -> str:
    """``when`` as the server's clock shows it, rounded up to the minute."""
    return time.strftime("%H:%M", time.localtime(math.ceil(when / 60) * 60))


def _deleted_message() -> str:
    return gettext(
        "The uploaded file of this batch was deleted: this server keeps uploads for a set "
        "time only. Upload the file again to check and import it."
    )


def _deleted_notice(service: Service) -> str:
    """On a batch's pages, when the clean-up deleted its file: saying so."""
    batch_id = (request.view_args or {}).get("batch_id")
    if not batch_id or request.method != "GET" or g.get("user") is None:
        return ""
    batch = service.store.batch(str(batch_id))
    if batch is None or not is_deleted(batch) or not can_see(_user(), batch):
        return ""
    return _deleted_message()


def _home(service: Service, error: str = "") -> str:
    user = _user()
    batches = service.visible_batches(user)
    return render_template(
        "home.html",
        error=error,
        targets=service.targets_for(user),
        types=service.registry.names(),
        batches=batches,
        runs={b.id: run for b in batches if (run := service.store.run_of_batch(b.id))},
        accept=",".join(SUFFIXES),
        limit_mb=service.limit_mb(),
    )


DOWNLOADS = {"report.xlsx", "report.csv", "report.json", "fixme.xlsx"}


def _download(service: Service, base: str, name: str, original: str) -> BaseResponse:
    """One of a report's files (``base``: the key of a check's or a run's
    report, :mod:`importer.web.kept`); the name asked for is looked up in a
    fixed set, never joined to a key as it is."""
    if name not in DOWNLOADS:
        abort(404)
    stem = Path(original).stem or "batch"
    return download(
        service.files,
        f"{base}.{name.removeprefix('report.')}",
        f"{stem}.{name}",
        gettext("There is no such file for this batch (nothing to fix, or not written yet)."),
    )


def _http_title(exc: HTTPException) -> str:
    """The title of an error page, in the reader's language."""
    titles = {
        400: gettext("Bad Request"),
        401: gettext("Unauthorized"),
        403: gettext("Forbidden"),
        404: gettext("Not Found"),
        405: gettext("Method Not Allowed"),
        409: gettext("Conflict"),
        410: gettext("Gone"),
        413: gettext("Request Entity Too Large"),
        429: gettext("Too Many Requests"),
        500: gettext("Internal Server Error"),
    }
    return titles.get(exc.code or 0, exc.name)


def _http_message(exc: HTTPException) -> str:
    """What an error page says when the app gave no words of its own."""
    messages = {
        404: gettext("There is nothing at this address: check the link, or go back to the start."),
        405: gettext("This address does not take that kind of request."),
        500: gettext("Something went wrong on the server: try again, or ask an administrator."),
    }
    return messages.get(
        exc.code or 0, gettext("The request could not be answered ({code}).", code=exc.code)
    )


def poll_ended(target: str) -> BaseResponse:
    """The answer to a polled box whose work has ended: the whole page at
    ``target``. htmx is told in a header of a plain 200 (a redirect would be
    followed inside the request, and the next page swapped into the box);
    a browser without JavaScript refreshes the whole page and is redirected."""
    if request.headers.get("HX-Request") == "true":
        return Response("", 200, {"HX-Redirect": target})
    return redirect(target)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another site's address. A
    backslash, a space or a control character (a browser drops a tab and
    reads ``/\t/evil.example`` as ``//evil.example``) makes it none."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and all(c.isprintable() and not c.isspace() and c != "\\" for c in target)
    ):
        return target
    return ""
