"""`--db postgresql://...` as a user types it: both URL forms work, and a wrong URL, password
or database is one line and exit 2, with no traceback and never the password."""

from __future__ import annotations

import json

import pytest

from benchmarks.postgres import SUPERUSER, Server
from tests.hardening.conftest import one_line, run_cli, studyapp

SECRET = "s3cret-never-shown"


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg", "postgres"])
def test_every_form_of_the_url_opens_the_collection(
    pg_server: Server, scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.create_database().replace("postgresql+psycopg", scheme, 1)
    status, out, err = run_cli(capsys, "init", "--db", url)
    assert status == 0, err
    assert out.startswith(f"Collection ready at {scheme}://{SUPERUSER}:***@")
    assert pg_server.password not in out
    status, out, _ = run_cli(capsys, "decks", "--json", "--db", url)
    assert status == 0 and sum(deck["total"] for deck in json.loads(out)) > 100


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://{user}:" + SECRET + "@{host}/{db}", "refused the password of user"),
        ("postgresql://{user}:{password}@{host}/no_such_db", "has no database 'no_such_db'"),
        ("postgresql://{user}@{host}/{db}", "asks for a password"),
        ("postgresql://{user}:" + SECRET + "@127.0.0.1:1/{db}", "cannot reach the database"),
        ("postgresql://{user}:" + SECRET + "@127.0.0.1:port/{db}", "is not a valid database URL"),
        ("mysql://{user}:" + SECRET + "@{host}/{db}", "not supported by this installation"),
    ],
    ids=["password", "database", "no password", "no server", "bad port", "other database"],
)
def test_a_wrong_url_is_one_line_and_exit_2_without_the_password(
    pg_server: Server,
    url: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from studyapp.cli import tui as tui_cli

    monkeypatch.setattr(tui_cli, "_check_terminal", lambda: None)  # `review` as in a terminal
    database = pg_server.create_database().rsplit("/", 1)[1]
    filled = url.format(
        user=SUPERUSER,
        password=pg_server.password,
        host=f"127.0.0.1:{pg_server.port}",
        db=database,
    )
    for command in (["decks"], ["init"], ["import", "-"], ["backup"], ["review"]):
        status, out, err = run_cli(capsys, *command, "--db", filled)
        assert status == 2 and out == "", command
        line = one_line(err)
        assert said in line, (command, line)
        assert SECRET not in err and pg_server.password not in err


def test_a_wrong_password_stops_the_real_command_with_no_traceback(pg_server: Server) -> None:
    url = f"postgresql://{SUPERUSER}:{SECRET}@127.0.0.1:{pg_server.port}/postgres"
    done = studyapp("stats", "--db", url)
    assert done.returncode == 2
    assert "refused the password" in one_line(done.stderr) and SECRET not in done.stderr
