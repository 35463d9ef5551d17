"""Connection settings: the environment, else ``vnimport.toml``.

``VNIMPORT_BASE_URL``, ``VNIMPORT_TOKEN_URL``, ``VNIMPORT_CLIENT_ID``,
``VNIMPORT_CLIENT_SECRET``, ``VNIMPORT_TENANT_ID`` (DESIGN.md), or the same
keys in lower case (``base_url = ...``) in ``vnimport.toml``. The secret is
kept out of every repr, log line, report and journal.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import ConfigError

KEYS = ("base_url", "token_url", "client_id", "client_secret", "tenant_id")
DEFAULT_SCOPE = " ".join(
    f"vismanet_erp_service_api:{s}" for s in ("read", "create", "update", "delete")
)


@dataclass(frozen=True)
class Connection:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant_id: str
    scope: str = DEFAULT_SCOPE

    @property
    def target(self) -> str:
        """What the journal keys on: the API and the company, never the client."""
        return f"{self.base_url.rstrip('/')}#{self.tenant_id}"


def load_connection(
    env: Mapping[str, str] | None = None, config: Path | None = None
) -> Connection | None:
    """The connection settings, or ``None`` when nothing is configured.
    Half a configuration is an error that names what is missing."""
    env = os.environ if env is None else env
    values = {k: env.get(f"VNIMPORT_{k.upper()}", "") for k in KEYS}
    path = config or Path("vnimport.toml")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        for key in KEYS:
            if not values[key] and isinstance(data.get(key), str):
                values[key] = data[key]
    if not any(values.values()):
        return None
    missing = [f"VNIMPORT_{k.upper()}" for k in KEYS if not values[k]]
    if missing:
        raise ConfigError(
            "the connection to Visma.net is not complete: set "
            + ", ".join(missing)
            + f" (in the environment or as lower-case keys in {path})"
        )
    return Connection(**values)


def how_to_configure() -> str:
    return (
        "no Visma.net connection is configured: set VNIMPORT_BASE_URL "
        "(https://api.finance.visma.net), VNIMPORT_TOKEN_URL "
        "(https://connect.visma.com/connect/token), VNIMPORT_CLIENT_ID, "
        "VNIMPORT_CLIENT_SECRET and VNIMPORT_TENANT_ID (the company's tenant id), "
        "or write them to vnimport.toml; or try it with --target sandbox"
    )


def default_journal_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the journal lives unless ``--journal`` says otherwise: one per
    user, wherever the run starts from (a nightly job's working folder may
    change; its journal must not): ``$VNIMPORT_JOURNAL``, else
    ``$XDG_STATE_HOME/vnimport/journal.sqlite`` (``~/.local/state/...``)."""
    env = os.environ if env is None else env
    if env.get("VNIMPORT_JOURNAL"):
        return Path(env["VNIMPORT_JOURNAL"])
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "vnimport" / "journal.sqlite"
