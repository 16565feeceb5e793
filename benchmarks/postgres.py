"""A throwaway PostgreSQL server made from the installed server binaries.

The tests and the benchmarks need a real server, and neither may depend on one that happens
to run on the machine: this makes a cluster with `initdb` in a temporary folder, starts it
with `pg_ctl` on a free port of 127.0.0.1 (its unix socket stays in that folder), hands out
URLs of fresh databases, and removes everything when stopped. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` account (which the Debian package makes)
or else as `nobody`.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "studyapp"
BINDIR_VAR = "STUDYAPP_PG_BINDIR"
INSTALL_HINT = "install the PostgreSQL server (Debian: `apt-get install postgresql`) to run them"
# Where distributions keep the server binaries when they are not on PATH.
BINARY_FOLDERS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")


class ServerUnavailable(RuntimeError):
    """No server binaries here, or the server would not start; the message says which."""


def find_binaries() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: `STUDYAPP_PG_BINDIR` if set, else on PATH,
    else the newest installed version."""
    chosen = os.environ.get(BINDIR_VAR)
    if chosen:
        folder = Path(chosen)
        return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None
    initdb = shutil.which("initdb")
    if initdb is not None:
        folder = Path(initdb).resolve().parent
        if (folder / "pg_ctl").exists():
            return folder
    found: list[tuple[tuple[int, ...], Path]] = []
    for pattern in BINARY_FOLDERS:
        for folder in Path("/").glob(pattern.lstrip("/")):
            if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
                version = tuple(int(n) for n in re.findall(r"\d+", str(folder)))
                found.append((version, folder))
    return max(found)[1] if found else None


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for this process's own (when it is not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable("running as root, and there is no postgres or nobody account")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running throwaway server; `stop()` ends it and removes its folder."""

    folder: Path
    binaries: Path
    port: int
    password: str
    account: pwd.struct_passwd | None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        name = name or f"c_{secrets.token_hex(6)}"
        self.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')  # fast from a small template
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """One statement, outside any transaction, as the superuser."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=database,
            autocommit=True,
        ) as conn:
            cursor = conn.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def _run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _as(
            self.account, [str(self.binaries / "pg_ctl"), *map(str, args)], self.folder, check=check
        )

    def pause(self) -> None:
        """Stop the server at once, as a crash or a network cut would, keeping its data."""
        self._run("stop", "-D", self.data, "-m", "immediate", "-w")

    def resume(self) -> None:
        """Start the server again after `pause`, on the same port with the same data."""
        self._run("start", "-D", self.data, "-l", self.folder / "server.log", "-w", "-t", "60")

    def stop(self) -> None:
        self._run("stop", "-D", self.data, "-m", "fast", "-w", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(durable: bool = False, port: int | None = None) -> Server:
    """Make and start a server. `durable=False` turns off fsync, which a test server does
    not need; the benchmarks keep it on, as a real server has it."""
    binaries = find_binaries()
    if binaries is None:
        raise ServerUnavailable(
            f"no PostgreSQL server binaries (initdb, pg_ctl) found: {INSTALL_HINT}"
        )
    account = _server_account()
    folder = Path(tempfile.mkdtemp(prefix="studyapp-pg-"))
    password = secrets.token_hex(12)
    try:
        if account is not None:
            os.chown(folder, account.pw_uid, account.pw_gid)
        pwfile = folder / "pwfile"
        pwfile.write_text(password + "\n")
        if account is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        _as(
            account,
            [
                str(binaries / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            folder,
        )
        pwfile.unlink()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{folder}'",
            "max_connections": "100",
            "shared_buffers": "64MB",
            # Without fsync a commit still reaches the operating system before it is
            # confirmed, so stopping the server at once (`pause`) loses nothing; only a
            # crash of the machine would.
            "fsync": "on" if durable else "off",
            "full_page_writes": "on" if durable else "off",
        }
        with (folder / "data" / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        last: ServerUnavailable | None = None
        for _ in range(3 if port is None else 1):
            chosen = port or free_port()
            try:
                _as(
                    account,
                    [
                        str(binaries / "pg_ctl"),
                        "start",
                        "-D",
                        str(folder / "data"),
                        "-l",
                        str(folder / "server.log"),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        f"-p {chosen}",
                    ],
                    folder,
                )
            except ServerUnavailable as exc:
                last = exc  # the port was taken in between: try another
                continue
            _pin_port(folder / "data", chosen)
            return Server(folder, binaries, chosen, password, account)
        assert last is not None
        raise last
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _pin_port(data: Path, port: int) -> None:
    """Write the port into the configuration, so `resume` comes back on it."""
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {port}\n")


def _as(
    account: pwd.struct_passwd | None, argv: Sequence[str], cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a server program as `account` (None: as this process)."""
    switch: dict[str, object] = {}
    if account is not None:
        switch = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    done = subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **switch,  # type: ignore[arg-type]
    )
    if check and done.returncode != 0:
        log = cwd / "server.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        raise ServerUnavailable(
            f"{Path(argv[0]).name} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-800:]} {tail}".strip()
        )
    return done
