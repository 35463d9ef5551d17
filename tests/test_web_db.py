"""The web app's database (importer/web/db.py) and its files
(importer/web/files.py), on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from pathlib import Path

import pytest

from importer.targets.journal import open_journal
from importer.web.db import Database, DatabaseError, UniqueViolation
from importer.web.files import Files

JOBS = """
CREATE TABLE IF NOT EXISTS web_jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,            -- queued, running; a comment; with "quotes"
    owner TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS web_jobs_live ON web_jobs(owner) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS web_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL
);
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def db_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database's location: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "web.sqlite")
    from postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres"), f"w{uuid.uuid4().hex[:12]}")


@pytest.fixture
def db(db_at: str) -> Database:
    database = Database(db_at)
    database.create_schema(JOBS)
    return database


def test_rows_by_name_and_position_and_placeholders(db: Database) -> None:
    db.execute(
        "INSERT INTO web_jobs (id, status, created) VALUES (?, ?, ?)", ("a?b", "queued", 1.5)
    )
    row = db.one("SELECT id, status, created, '?' AS q, '100%' AS pct FROM web_jobs WHERE id = ?",
                 ("a?b",))  # fmt: skip
    assert row is not None
    assert (row["id"], row["status"], row["created"], row["q"], row["pct"]) == (
        "a?b", "queued", 1.5, "?", "100%",
    )  # fmt: skip
    assert row[0] == "a?b" and row.keys()[:2] == ["id", "status"]
    assert db.one("SELECT id FROM web_jobs WHERE id LIKE 'a%'") is not None
    assert db.one("SELECT id FROM web_jobs WHERE id = ?", ("none",)) is None
    assert [r["status"] for r in db.query("SELECT status FROM web_jobs")] == ["queued"]
    # a REAL is a double (PostgreSQL's REAL would round a clock time)
    now = time.time()
    db.execute("UPDATE web_jobs SET created = ?", (now,))
    assert db.one("SELECT created FROM web_jobs")[0] == now  # type: ignore[index]
    # json members, both dialects
    db.execute("UPDATE web_jobs SET summary = ?", ('{"deleted": 12.5}',))
    got = db.one(f"SELECT {db.json_text('summary', 'deleted')} AS d FROM web_jobs")
    assert got is not None and float(got["d"]) == 12.5
    db.execute("UPDATE web_jobs SET summary = '{}'")
    assert db.one(f"SELECT id FROM web_jobs WHERE {db.json_text('summary', 'deleted')} IS NULL")
    # an identity column
    db.execute("INSERT INTO web_notes (text) VALUES (?)", ("one",))
    db.execute("INSERT INTO web_notes (text) VALUES (?)", ("two",))
    assert [r["id"] for r in db.query("SELECT id FROM web_notes ORDER BY id")] == [1, 2]


def test_the_schema_is_made_once_and_beside_the_journal(db_at: str) -> None:
    journal = open_journal(db_at)  # the journal's own tables, runs among them
    journal.close()
    results: list[BaseException | None] = []

    def create() -> None:
        try:
            Database(db_at).create_schema(JOBS)
            results.append(None)
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [None] * 4
    tables = Database(db_at).tables()
    assert {"runs", "entries", "meta", "web_jobs", "web_notes"} <= tables
    with pytest.raises(ValueError, match="web_"):
        Database(db_at).create_schema("CREATE TABLE IF NOT EXISTS runs (id TEXT)")
    with pytest.raises(ValueError, match="web_"):
        Database(db_at).create_schema("CREATE INDEX IF NOT EXISTS runs_x ON web_jobs(id)")


def test_a_duplicate_key_is_the_same_exception_on_both(db: Database) -> None:
    db.execute("INSERT INTO web_jobs (id, status, created) VALUES ('j1', 'queued', 0)")
    with pytest.raises(UniqueViolation):
        db.execute("INSERT INTO web_jobs (id, status, created) VALUES ('j1', 'queued', 0)")
    # a unique index, and inside a transaction (rolled back as a whole)
    db.execute(
        "INSERT INTO web_jobs (id, status, owner, created) VALUES ('j2', 'running', 'ann', 0)"
    )
    with pytest.raises(UniqueViolation), db.transaction() as tx:
        tx.execute(
            "INSERT INTO web_jobs (id, status, owner, created) VALUES ('j3', 'queued', 'ann', 0)"
        )
        tx.execute("UPDATE web_jobs SET status = 'running' WHERE id = 'j3'")
    assert db.one("SELECT id FROM web_jobs WHERE id = 'j3'") is None
    # ON CONFLICT DO NOTHING: no exception, rowcount says
    done = db.execute(
        "INSERT INTO web_jobs (id, status, created) VALUES ('j1', 'queued', 0) "
        "ON CONFLICT DO NOTHING"
    )
    assert done.rowcount == 0
    assert issubclass(UniqueViolation, DatabaseError)
    with pytest.raises(DatabaseError) as caught:
        db.execute("SELECT nothing FROM web_nowhere")
    assert not isinstance(caught.value, UniqueViolation)


def test_an_exception_in_a_transaction_rolls_it_back(db: Database) -> None:
    with pytest.raises(KeyError), db.transaction() as tx:
        tx.execute("INSERT INTO web_jobs (id, status, created) VALUES ('k', 'queued', 0)")
        raise KeyError("mine")
    assert db.one("SELECT id FROM web_jobs WHERE id = 'k'") is None
    with db.transaction() as tx:
        tx.execute("INSERT INTO web_jobs (id, status, created) VALUES ('k', 'queued', 0)")
    assert db.one("SELECT id FROM web_jobs WHERE id = 'k'") is not None


@pytest.mark.parametrize("rounds", [5])
def test_two_threads_claiming_one_row_one_wins(db: Database, rounds: int) -> None:
    for n in range(rounds):
        job = f"job{n}"
        db.execute("INSERT INTO web_jobs (id, status, created) VALUES (?, 'queued', 0)", (job,))
        barrier = threading.Barrier(2)
        won: list[str] = []

        def claim(
            me: str, job: str = job, barrier: threading.Barrier = barrier, won: list[str] = won
        ) -> None:
            barrier.wait()
            with db.transaction() as tx:
                row = tx.one("SELECT status FROM web_jobs WHERE id = ?{for_update}", (job,))
                assert row is not None
                if row["status"] != "queued":
                    return
                time.sleep(0.05)  # the other one reads now, if it can
                tx.execute(
                    "UPDATE web_jobs SET status = 'claimed', owner = ? WHERE id = ?", (me, job)
                )
            won.append(me)

        threads = [threading.Thread(target=claim, args=(f"t{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
        row = db.one("SELECT owner FROM web_jobs WHERE id = ?", (job,))
        assert row is not None and row["owner"] == won[0]

    # the one-statement claim: the WHERE decides
    db.execute("INSERT INTO web_jobs (id, status, created) VALUES ('s', 'queued', 0)")
    counts: list[int] = []
    barrier = threading.Barrier(8)

    def claim_once() -> None:
        barrier.wait()
        counts.append(
            db.execute(
                "UPDATE web_jobs SET status = 'claimed' WHERE id = 's' AND status = 'queued'"
            ).rowcount
        )

    threads = [threading.Thread(target=claim_once) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0] * 7 + [1]


def test_many_threads_write_at_once(db: Database) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(15):
                db.execute(
                    "INSERT INTO web_jobs (id, status, created) VALUES (?, 'queued', ?)",
                    (f"{t}-{i}", time.time()),
                )
                db.query("SELECT count(*) FROM web_jobs")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.one("SELECT count(*) AS n FROM web_jobs")["n"] == 120  # type: ignore[index]


# ------------------------------------------------------------------- files


def test_a_file_round_trips_and_another_machine_sees_it(db_at: str, tmp_path: Path) -> None:
    here = Files(Database(db_at), tmp_path / "here")
    there = Files(Database(db_at), tmp_path / "there")  # a second server, same database
    data = os.urandom(5 * 1024 * 1024)
    info = here.put("uploads/abc.xlsx", data, name="Fakturaer mars.xlsx")
    assert (info.size, info.name) == (len(data), "Fakturaer mars.xlsx")
    got = there.get("uploads/abc.xlsx")
    assert got is not None and got.data == data and got.name == "Fakturaer mars.xlsx"
    assert there.get("uploads/none.xlsx") is None and there.local_path("uploads/none.x") is None

    path = there.local_path("uploads/abc.xlsx")
    assert path == tmp_path / "there" / "uploads" / "abc.xlsx"
    assert path.read_bytes() == data
    # once: the copy is read again, not written again
    stamp = path.stat().st_ino, path.stat().st_mtime_ns
    assert there.local_path("uploads/abc.xlsx") == path
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp
    # changed on the first machine: the second writes its copy again
    here.put("uploads/abc.xlsx", b"edited", created=info.created + 1)
    assert there.local_path("uploads/abc.xlsx") == path and path.read_bytes() == b"edited"
    # deleted on the first: gone on the second, its copy too
    assert here.delete("uploads/abc.xlsx") and not here.delete("uploads/abc.xlsx")
    assert there.local_path("uploads/abc.xlsx") is None and not path.exists()
    assert there.listing() == []


def test_files_older_than_a_time_are_deleted(db_at: str, tmp_path: Path) -> None:
    now = [1000.0]
    files = Files(Database(db_at), tmp_path / "local", clock=lambda: now[0])
    files.put("uploads/old_1.csv", b"a;b\n")
    files.put("runs/r1/report.json", b"{}")
    files.put("runs/r1/report.xlsx", b"xlsx")
    now[0] = 2000.0
    files.put("uploads/new_1.csv", b"c;d\n")
    files.put("uploads/new_1.mapping.toml", b"")
    old_copy = files.local_path("uploads/old_1.csv")
    assert old_copy is not None and old_copy.is_file()

    assert files.delete_older_than(1500.0, prefix="uploads/") == ["uploads/old_1.csv"]
    assert not old_copy.exists()
    assert [f.key for f in files.listing()] == [
        "runs/r1/report.json", "runs/r1/report.xlsx",
        "uploads/new_1.csv", "uploads/new_1.mapping.toml",
    ]  # fmt: skip
    assert [f.created for f in files.listing("runs/")] == [1000.0, 1000.0]  # reports stay
    assert files.delete_prefix("uploads/new_1.") == [
        "uploads/new_1.csv", "uploads/new_1.mapping.toml",
    ]  # fmt: skip
    assert files.delete_older_than(5000.0) == ["runs/r1/report.json", "runs/r1/report.xlsx"]
    assert files.listing() == []


def test_a_key_is_a_plain_relative_path(tmp_path: Path) -> None:
    files = Files(Database(tmp_path / "web.sqlite"), tmp_path / "local")
    for key in ["../x", "/etc/passwd", "uploads/../x", ".hidden", "a//b", "a b", "", "a\\b"]:
        with pytest.raises(ValueError, match="not a file key"):
            files.put(key, b"x")
    with pytest.raises(ValueError):
        files.delete_prefix("")


def test_a_local_copy_of_a_file_deleted_elsewhere_is_pruned(tmp_path: Path) -> None:
    db = Database(tmp_path / "web.sqlite")
    here, there = Files(db, tmp_path / "here"), Files(db, tmp_path / "there")
    here.put("uploads/a.csv", b"1")
    here.put("uploads/b.csv", b"2")
    kept = there.local_path("uploads/a.csv")
    gone = there.local_path("uploads/b.csv")
    assert kept and gone
    here.delete("uploads/b.csv")
    assert there.prune_local() == 1
    assert kept.is_file() and not gone.exists()


# --------------------------------------------------------------- passwords


def test_a_password_is_never_in_a_message(postgres: str) -> None:
    secret = "Sup3r-s3cret"
    host = postgres.split("@", 1)[1].split("/", 1)[0]
    addresses = [
        f"postgresql://postgres:{secret}@{host}/no_such_database",  # refused by the server
        f"postgresql://postgres:{secret}@127.0.0.1:1/postgres",  # nobody listening
        f"postgresql://postgres:{secret}%zz@{host}/postgres",  # a malformed address
        f"postgresql://postgres@{host}/no_such_database?sslmode=prefer&password={secret}",
    ]
    for address in addresses:
        db = Database(address)
        assert secret not in repr(db) and secret not in db.where
        with pytest.raises(DatabaseError) as caught:
            db.create_schema(JOBS)
        text = "".join(traceback.format_exception(caught.value))
        assert secret not in text, text
        assert "***" in str(caught.value) or "postgres@" in str(caught.value)
