"""The web app for accountants (``vnimport serve``): sign in, choose the
company, upload a batch, see every problem on its cell, import it in the
background, download the report; and a JSON API for scripts. See
docs/web.md.

Why Flask (3.1) behind waitress, not Starlette behind uvicorn: the work is
synchronous (the reader, the checks, the journal, ``run_job`` all block),
so an async framework would only push it into thread pools; Flask's
request limits (``MAX_CONTENT_LENGTH`` raising a 413 that the app turns
into a page, ``MAX_FORM_PARTS``) are the simplest; its test client needs
nothing more (Starlette's needs httpx); and waitress is a pure-Python
production WSGI server with no compiled parts and no development-server
caveats. Templates are Jinja with autoescape on (every ``.html``), and
htmx 2 is vendored as one static file (``static/htmx-2.0.11.min.js``,
BSD-2-Clause, ``static/htmx-LICENSE.txt``); every page works without it.

Modules: :mod:`~importer.web.app` (the pages), :mod:`~importer.web.api`
(``/api/v1``), :mod:`~importer.web.service` (what both do),
:mod:`~importer.web.batches` (an upload, checked), :mod:`~importer.web.runs`
(runs in background threads), :mod:`~importer.web.store` (users, batches,
runs in SQLite or PostgreSQL), :mod:`~importer.web.kept` (their files),
:mod:`~importer.web.users` (passwords and tokens).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_data_dir", "serve"]


def default_data_dir() -> Path:
    """Where the web app keeps its users, uploads and reports (or, when they
    are kept in PostgreSQL, its own copies): ``web/`` beside the default
    journal; when that is a PostgreSQL address (no folder of its own),
    ``$XDG_STATE_HOME/vnimport/web`` (``~/.local/state/vnimport/web``)."""
    import os

    from importer.settings import default_journal, default_journal_path, is_url

    if is_url(default_journal()):
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(state) / "vnimport" / "web"
    return default_journal_path().parent / "web"


def serve(
    data: Path,
    config: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_upload: int | None = None,
    behind_tls: bool = False,
    threads: int = 8,
) -> None:
    """Serve the app with waitress until interrupted."""
    import waitress

    from importer.web.app import MAX_UPLOAD, create_app

    app = create_app(data, config, max_upload=max_upload or MAX_UPLOAD, behind_tls=behind_tls)
    waitress.serve(app, host=host, port=port, threads=threads, ident="vnimport")
