"""Settings: one table, refused when mistyped, documented in full.

The tables of docs/configuration.md are generated from ``importer.settings.SETTINGS``
and ``importer.cli.build_parser()``; after changing either, rewrite them with

    python tests/test_settings.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from importer import settings
from importer.cli import build_parser
from importer.errors import ConfigError
from importer.settings import (
    CONNECTION,
    SETTINGS,
    TARGETS_KEY,
    Connection,
    default_journal_path,
    how_to_configure,
    load_connection,
    read_config,
    types_path,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "configuration.md"
SECRET = "s3cr3t-Kj8vQ"
FULL = {
    "base_url": "https://api.finance.visma.net",
    "token_url": "https://connect.visma.com/connect/token",
    "client_id": "app",
    "client_secret": SECRET,
    "tenant_id": "company-1",
}


def toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def full_toml(**changes: str) -> str:
    return "".join(f'{k} = "{v}"\n' for k, v in {**FULL, **changes}.items())


def refused(env: dict[str, str], path: Path | None) -> str:
    with pytest.raises(ConfigError) as info:
        load_connection(env, path)
    return str(info.value)


# ------------------------------------------------------------ vnimport.toml


def test_an_unknown_key_is_refused_naming_the_file_and_the_closest_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    toml(tmp_path / "vnimport.toml", full_toml().replace("tenant_id", "tenant"))
    message = refused({}, None)
    assert message == "vnimport.toml: unknown key 'tenant' (did you mean 'tenant_id'?)"


def test_keys_in_the_wrong_case_are_refused_all_at_once(tmp_path: Path) -> None:
    path = toml(
        tmp_path / "vnimport.toml",
        full_toml()
        .replace("base_url", "BASE_URL")
        .replace("client_id", "Client_Id")
        .replace("tenant_id", "VNIMPORT_TENANT_ID"),
    )
    message = refused({}, path)
    assert message.startswith(f"{path}: ")
    assert "unknown key 'BASE_URL' (did you mean 'base_url'?)" in message
    assert "unknown key 'Client_Id' (did you mean 'client_id'?)" in message
    assert "unknown key 'VNIMPORT_TENANT_ID' (did you mean 'tenant_id'?)" in message


def test_a_key_like_no_other_lists_the_known_keys(tmp_path: Path) -> None:
    message = refused({}, toml(tmp_path / "v.toml", full_toml() + 'colour = "blue"\n'))
    assert "unknown key 'colour' (the keys are base_url, token_url," in message


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("tenant_id = 12345", "a number"),
        ("tenant_id = true", "true or false"),
        ('tenant_id = ["a"]', "a list"),
        ("tenant_id = 2024-01-31", "a date or time"),
        ('[tenant_id]\nname = "a"', "a table"),
    ],
)
def test_a_value_that_is_not_text_is_refused(tmp_path: Path, line: str, kind: str) -> None:
    text = full_toml().replace('tenant_id = "company-1"\n', "") + line + "\n"
    message = refused({}, toml(tmp_path / "vnimport.toml", text))
    assert f'tenant_id must be text in quotes (tenant_id = "..."), not {kind}' in message


def test_targets_tables_stand_beside_the_top_level_connection(tmp_path: Path) -> None:
    text = full_toml() + '[targets.acme]\ntenant_id = "acme"\n'
    assert TARGETS_KEY not in read_config(toml(tmp_path / "v.toml", text))
    assert load_connection({}, toml(tmp_path / "v.toml", text)) is not None


def test_a_setting_the_file_cannot_hold_says_where_it_goes(tmp_path: Path) -> None:
    message = refused({}, toml(tmp_path / "v.toml", full_toml() + 'journal = "j.sqlite"\n'))
    assert "'journal' cannot be set in vnimport.toml: use VNIMPORT_JOURNAL or --journal" in message


def test_a_web_address_must_look_like_one(tmp_path: Path) -> None:
    path = toml(tmp_path / "v.toml", full_toml(base_url="api.finance.visma.net"))
    message = refused({}, path)
    assert f"base_url in {path}: 'api.finance.visma.net' is not a web address" in message
    message = refused({"VNIMPORT_TOKEN_URL": "connect.visma.com"}, path.with_name("none"))
    assert message.startswith("the connection to Visma.net is not complete")
    env = {f"VNIMPORT_{k.upper()}": v for k, v in FULL.items()}
    message = refused({**env, "VNIMPORT_TOKEN_URL": "connect.visma.com"}, None)
    assert "VNIMPORT_TOKEN_URL: 'connect.visma.com' is not a web address" in message


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    assert "not valid TOML" in refused({}, toml(tmp_path / "v.toml", "base_url = ["))


# ------------------------------------------------------------ the environment


def test_nothing_configured_is_none_and_the_way_out_is_named(tmp_path: Path) -> None:
    assert load_connection({}, tmp_path / "none.toml") is None
    assert load_connection({"VNIMPORT_TENANT_ID": ""}, toml(tmp_path / "v.toml", "")) is None
    advice = how_to_configure()
    for s in CONNECTION:
        assert s.env in advice and str(s.toml) in advice
    assert "--target sandbox" in advice and "docs/configuration.md" in advice


def test_the_environment_beats_the_file_key_by_key(tmp_path: Path) -> None:
    path = toml(tmp_path / "vnimport.toml", full_toml())
    env = {"VNIMPORT_TENANT_ID": "company-2", "VNIMPORT_CLIENT_SECRET": "from-env"}
    conn = load_connection(env, path)
    assert conn is not None
    assert (conn.tenant_id, conn.client_secret) == ("company-2", "from-env")
    assert (conn.base_url, conn.client_id) == (FULL["base_url"], "app")
    assert conn.target == "https://api.finance.visma.net#company-2"


def test_half_a_configuration_names_what_is_missing_and_what_was_found(tmp_path: Path) -> None:
    path = toml(tmp_path / "vnimport.toml", f'base_url = "{FULL["base_url"]}"\n')
    env = {
        "VNIMPORT_TOKEN_URL": FULL["token_url"],
        "VNIMPORT_CLIENT_ID": "app",
        "VNIMPORT_TENNANT_ID": "company-1",
    }
    message = refused(env, path)
    assert message.startswith(
        "the connection to Visma.net is not complete: set VNIMPORT_CLIENT_SECRET, "
        f"VNIMPORT_TENANT_ID (in the environment, or as client_secret, tenant_id in {path})"
    )
    assert f"found base_url in {path}, VNIMPORT_TOKEN_URL, VNIMPORT_CLIENT_ID" in message
    assert "VNIMPORT_TENNANT_ID is set: did you mean VNIMPORT_TENANT_ID?" in message


# ------------------------------------------------------------ the secret


def test_the_secret_is_not_in_the_repr_or_str_of_a_connection() -> None:
    conn = Connection(**FULL)
    assert SECRET not in repr(conn) and SECRET not in str(conn)
    assert "client_secret" not in repr(conn)


@pytest.mark.parametrize(
    "text",
    [
        full_toml().replace("tenant_id", "tenant"),
        full_toml().replace("client_secret", "CLIENT_SECRET"),
        full_toml().replace("client_secret", "clientsecret"),
        full_toml().replace("client_secret", "secret"),
        full_toml() + f'journal = "{SECRET}"\n',
        full_toml() + f'[targets.acme]\nclient_secret = "{SECRET}"\nbogus = "x"\n',
        full_toml(base_url="api.finance.visma.net"),
        f'client_secret = "{SECRET}"\n',
        f'client_secret = "{SECRET}"\nbase_url = [',
        f'client_secret = "{SECRET}\n',
        f"client_secret = {SECRET}\n",
        f"tenant_id = 1\nclient_secret = {SECRET[-4:]}\n",
    ],
)
def test_the_secret_is_in_no_error_message(tmp_path: Path, text: str) -> None:
    message = refused({}, toml(tmp_path / "vnimport.toml", text))
    assert SECRET not in message and SECRET[-4:] not in message


def test_the_secret_from_the_environment_is_in_no_error_message(tmp_path: Path) -> None:
    message = refused({"VNIMPORT_CLIENT_SECRET": SECRET}, tmp_path / "none.toml")
    assert "VNIMPORT_CLIENT_SECRET" in message and SECRET not in message
    env = {f"VNIMPORT_{k.upper()}": v for k, v in FULL.items()}
    message = refused({**env, "VNIMPORT_BASE_URL": "x"}, tmp_path / "none.toml")
    assert SECRET not in message


# ------------------------------------------------------------ the table


def test_the_table_is_the_connection_and_every_variable_vnimport_reads() -> None:
    fields = {f.name for f in dataclasses.fields(Connection)} - {"scope", "job"}
    assert {s.name for s in CONNECTION} == fields
    assert [s.name for s in SETTINGS if s.secret] == ["client_secret"]
    named = set()
    for path in (ROOT / "importer").rglob("*.py"):
        named |= set(re.findall(r"\bVNIMPORT_[A-Z_]+[A-Z]\b", path.read_text(encoding="utf-8")))
    assert named <= {s.env for s in SETTINGS}, "add it to importer.settings.SETTINGS"


def test_scopes_come_from_the_option_the_environment_or_the_file(tmp_path: Path) -> None:
    from importer.settings import configured_scopes

    full = "vismanet_erp_service_api:read vismanet_erp_service_api:create"
    path = toml(tmp_path / "vnimport.toml", 'scopes = "read update"\n')
    assert configured_scopes(None, {}, tmp_path / "none.toml") == ""  # each command's own
    assert configured_scopes(None, {}, path).endswith(":read vismanet_erp_service_api:update")
    assert configured_scopes(None, {"VNIMPORT_SCOPES": "read,create"}, path) == full
    assert configured_scopes(full, {"VNIMPORT_SCOPES": "delete"}, path) == full
    with pytest.raises(ConfigError, match=r"'writ' is not a Visma\.net API scope"):
        configured_scopes("read writ", {}, path)


def test_the_journal_and_the_types_path() -> None:
    assert default_journal_path({"VNIMPORT_JOURNAL": "/x/j.sqlite"}) == Path("/x/j.sqlite")
    assert default_journal_path({"XDG_STATE_HOME": "/s"}) == Path("/s/vnimport/journal.sqlite")
    sep = __import__("os").pathsep
    assert types_path({"VNIMPORT_TYPES_PATH": f"/a{sep}{sep}/b"}) == [Path("/a"), Path("/b")]
    assert types_path({}) == []


# ------------------------------------------------------------ the page

BEGIN = "<!-- begin {} (generated by `python tests/test_settings.py`; do not edit) -->"
END = "<!-- end {} -->"
# Text for the options that have no help= yet; the parser's own help wins.
HELP_FALLBACK: dict[tuple[str, str], str] = {}  # every option has its own help= now


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def settings_table() -> str:
    rows = [
        "| Environment variable | `vnimport.toml` key | What it is | Default |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        what = s.description
        if s.example:
            what += f", e.g. `{s.example}`"
        if s.option:
            what += f"; `{s.option}` beats it"
        if s.secret:
            what += ". **Secret**"
        key = f"`{s.toml}`" if s.toml else "(environment only)"
        default = s.default or ("required" if s.per_target else "none")
        rows.append(f"| `{s.env}` | {key} | {_cell(what)} | {_cell(default)} |")
    return "\n".join(rows)


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {a.dest: a.help or "" for a in sub._get_subactions()}
    return [(name, helps.get(name, ""), p) for name, p in sub.choices.items()]


def _shown(action: argparse.Action) -> bool:
    return action.help != argparse.SUPPRESS and not isinstance(
        action, argparse._HelpAction | argparse._SubParsersAction
    )


def _invocation(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest.upper()}`"
    if action.nargs == 0:
        arg = ""
    elif action.metavar:
        arg = f" {action.metavar}"
    elif action.choices:
        arg = " {" + ",".join(str(c) for c in action.choices) + "}"
    else:
        arg = f" {action.dest.upper()}"
    return ", ".join(f"`{o}{arg}`" for o in action.option_strings)


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if (
        action.default is None
        or action.default is False
        or action.default in ([], argparse.SUPPRESS)
    ):
        return ""
    return f"`{action.default}`"


def _rows(command: str, actions: list[argparse.Action]) -> list[str]:
    rows = ["| Option | What it does | Default |", "|---|---|---|"]
    for action in actions:
        key = next(iter(action.option_strings), action.dest)
        text = action.help or HELP_FALLBACK.get((command, key), "")
        assert text, f"{command} {key} has no help: give it help= in importer/cli.py"
        rows.append(f"| {_invocation(action)} | {_cell(text)} | {_default(action)} |")
    return rows


def options_section() -> str:
    parser = build_parser()
    top = [a for a in parser._actions if _shown(a)]
    common = {o for a in top for o in a.option_strings}
    lines = [
        "### Every command",
        "",
        "Before or after the command name (`--version` only before it).",
        "",
        *_rows("", top),
    ]
    for name, help_text, sub in _subcommands(parser):
        actions = [a for a in sub._actions if _shown(a) and not common & set(a.option_strings)]
        positionals = " ".join(_invocation(a).strip("`") for a in actions if not a.option_strings)
        lines += ["", f"### `{f'vnimport {name} {positionals}'.strip()}`", ""]
        lines += [f"{help_text[:1].upper()}{help_text[1:]}.", "", *_rows(name, actions)]
    return "\n".join(lines)


SECTIONS = {"settings": settings_table, "options": options_section}


def _span(name: str, text: str) -> tuple[int, int]:
    """Where the generated part of a section is: between its two markers."""
    begin, end = BEGIN.format(name) + "\n", "\n" + END.format(name)
    assert begin in text and end in text, f"docs/configuration.md has no {name} markers"
    start = text.index(begin) + len(begin)
    return start, text.index(end, start)


def _section(name: str, text: str) -> str:
    start, stop = _span(name, text)
    return text[start:stop]


def rewrite(text: str) -> str:
    for name, make in SECTIONS.items():
        start, stop = _span(name, text)
        text = text[:start] + make() + text[stop:]
    return text


def test_the_generated_tables_of_the_page_are_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, make in SECTIONS.items():
        assert _section(name, text) == make(), "run: python tests/test_settings.py"


def test_the_page_names_every_variable_and_every_option_of_every_command() -> None:
    text = DOC.read_text(encoding="utf-8")
    for s in SETTINGS:
        assert f"`{s.env}`" in text, s.env
        if s.toml:
            assert f"`{s.toml}`" in text, s.toml
    parser = build_parser()
    for name, _, sub in [("", "", parser), *_subcommands(parser)]:
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--"):
                    assert f"`{option}" in text, (name, option)
    for words in ("option > environment > vnimport.toml > default", "never written"):
        assert words in " ".join(text.split()), words


def test_the_examples_of_the_page_configure_a_connection(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    example, target = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    conn = load_connection({}, toml(tmp_path / "vnimport.toml", example))
    assert conn is not None and conn.tenant_id
    acme = settings.load_target(
        "acme", {"ACME_SECRET": "x"}, toml(tmp_path / "t.toml", example + target)
    )
    assert acme.connection.tenant_id == "acme-tenant-id" and acme.journal.startswith("postgresql")
    env = {}
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["export"]:
                name, _, value = words[1].partition("=")
                env[name] = value
    assert load_connection(env, tmp_path / "none.toml") == conn


# ------------------------------------------------------------ targets


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vnimport.toml"
    path.write_text(text, encoding="utf-8")
    return path


TARGET = """
[targets.acme]
base_url = "https://api.example"
token_url = "https://connect.example/token"
client_id = "acme-client"
tenant_id = "acme-tenant"
{secret}
journal = "{journal}"
"""


def test_a_target_names_one_company_its_secret_and_its_journal(tmp_path: Path) -> None:
    from importer.settings import load_target

    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("from-a-file\n", encoding="utf-8")
    for way, env, expected in (
        ('client_secret = "inline"', {}, "inline"),
        ('client_secret_env = "ACME_SECRET"', {"ACME_SECRET": "from-env"}, "from-env"),
        (f'client_secret_file = "{secret_file}"', {}, "from-a-file"),
    ):
        path = _toml(tmp_path, TARGET.format(secret=way, journal="acme.sqlite"))
        target = load_target("acme", env, path)
        assert target.connection.client_secret == expected and target.journal == "acme.sqlite"
        assert target.connection.target == "https://api.example#acme-tenant"  # the company
        assert expected not in repr(target)


@pytest.mark.parametrize(
    ("secret", "name", "says"),
    [
        ("", "acme", "give the client secret one way"),
        ('client_secret = "a"\nclient_secret_env = "B"', "acme", "give the client secret one way"),
        ('client_secret_env = "NOT_SET_ANYWHERE"', "acme", "NOT_SET_ANYWHERE is not set"),
        ('client_secret = "a"', "acne", "did you mean 'acme'"),
        ('client_secret = "a"\ntenant = "x"', "acme", "unknown key 'tenant' (did you mean"),
    ],
)
def test_a_target_that_cannot_be_used_says_why(
    tmp_path: Path, secret: str, name: str, says: str
) -> None:
    from importer.settings import load_target

    path = _toml(tmp_path, TARGET.format(secret=secret, journal="j.sqlite"))
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_target(name, {}, path)


def test_sandbox_is_a_reserved_target_name(tmp_path: Path) -> None:
    path = _toml(tmp_path, TARGET.replace("acme", "sandbox").format(secret="", journal="j"))
    with pytest.raises(ConfigError, match="'sandbox' is reserved"):
        read_config(path)


def test_run_and_runs_with_a_named_target(tmp_path: Path) -> None:
    from conftest import write_csv

    from importer.sandbox import DEMO_SECRET, Sandbox, SandboxConfig

    src = write_csv(tmp_path / "c.csv", [["Customer number", "Name"], ["10001", "A"]])
    with Sandbox(SandboxConfig(company="empty")) as sb:  # the customers counted are the run's
        _toml(
            tmp_path,
            f"""
[targets.acme]
base_url = "{sb.url}"
token_url = "{sb.token_url}"
client_id = "demo"
tenant_id = "demo-company"
client_secret_env = "ACME_SECRET"
journal = "acme-journal.sqlite"
""",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("VNIMPORT_")}
        env["ACME_SECRET"] = DEMO_SECRET
        run = [sys.executable, "-m", "importer"]
        argv = [*run, "run", str(src), "--type", "customer", "--target", "acme"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert sb.count("customer") == 1 and (tmp_path / "acme-journal.sqlite").exists()
        argv = [*run, "runs", "--target", "acme", "--json"]
        listed = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        [entry] = json.loads(listed.stdout)
        assert entry["target"] == f"{sb.url}#demo-company" and entry["counts"] == {"created": 1}
        assert DEMO_SECRET not in proc.stderr + listed.stdout


if __name__ == "__main__":
    DOC.write_text(rewrite(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the generated tables of {DOC.relative_to(ROOT)}", file=sys.stderr)
