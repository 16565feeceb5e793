"""Schema versions: create a new collection, upgrade an old one, refuse a newer one.

The revision a collection is at is read with one query; alembic is imported only when there
is something to migrate, so opening an up-to-date collection stays fast, and a new
collection is created from the models at the current revision. An upgrade of an
existing collection is preceded by a backup.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError

from studyapp.db.engine import IMMEDIATE
from studyapp.db.location import describe
from studyapp.db.revisions import HEAD, REVISIONS
from studyapp.errors import CollectionError, NewerCollectionError, NoCollectionYet

__all__ = ["HEAD", "REVISIONS", "current_revision", "ensure_schema", "upgrade_to_head"]


def current_revision(conn: Connection) -> str | None:
    """The collection's schema revision, or None for an empty database."""
    names = set(inspect(conn).get_table_names())
    if "alembic_version" not in names:
        if names - {"sqlite_sequence"}:
            raise CollectionError("it holds tables but is not a studyapp collection")
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None


def _upgrade(conn: Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("studyapp.db") / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, target)


def _create(conn: Connection) -> None:
    """A new collection at the current revision, straight from the models.

    The same schema the migrations build (a test holds the two together), without loading
    alembic and replaying every revision: a new collection is ready in milliseconds.
    """
    from studyapp.db.models import Base

    Base.metadata.create_all(conn)
    conn.execute(
        text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
            " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD})


def ensure_schema(
    engine: Engine,
    where: str,
    before_migration: Callable[[], object] | None = None,
    create: bool = True,
    upgrade: bool = True,
) -> bool:
    """Bring the collection to the current schema. Returns True if a migration ran.

    `where` names the collection in messages; `before_migration` makes a backup before an
    existing collection is changed. `create=False` refuses an empty database instead of
    making a collection in it; `upgrade=False` refuses a collection at an older schema
    instead of upgrading it.
    """
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    except CollectionError as exc:
        raise CollectionError(f"{where} cannot be opened: {exc.message}") from None
    except OperationalError as exc:
        raise CollectionError(describe(exc, where)) from None
    except DatabaseError as exc:
        raise CollectionError(_not_a_collection(exc, where)) from None
    if revision == HEAD:
        return False
    _check_known(revision, where)
    if revision is None and not create:
        raise NoCollectionYet(f"{where} holds no collection yet: `studyapp init` makes one there")
    if revision is not None and not upgrade:
        raise CollectionError(
            f"{where} was made by an older version of studyapp (schema {revision}); a command "
            "that only reads does not upgrade it: `studyapp init` does (in one transaction), "
            "once every machine sharing it runs this version"
        )
    if revision is not None and before_migration is not None:
        before_migration()
    try:
        # Under the write lock from the start, so two processes opening a new collection at
        # once queue up; the second finds the work done.
        with engine.execution_options(**{IMMEDIATE: True}).begin() as conn:
            revision = current_revision(conn)
            if revision == HEAD:
                return False
            _check_known(revision, where)
            if revision is None:
                _create(conn)
            else:
                _upgrade(conn)
    except OperationalError as exc:
        raise CollectionError(describe(exc, where)) from None
    except DatabaseError as exc:
        if _from_server(exc):
            raise CollectionError(describe(exc, where)) from None
        raise CollectionError(f"{where} could not be set up: {_reason(exc)}") from None
    return True


def upgrade_to_head(engine: Engine) -> None:
    """Bring a collection at a known older revision to the current one, with no backup and
    no translation of errors: for a scratch copy whose caller names the file it came from."""
    with engine.begin() as conn:
        if current_revision(conn) != HEAD:
            _upgrade(conn)


def _check_known(revision: str | None, where: str) -> None:
    if revision is not None and revision not in REVISIONS:
        raise NewerCollectionError(
            f"{where} was made by a newer version of studyapp (schema {revision}); "
            "upgrade studyapp to open it"
        )


def _from_server(exc: DatabaseError) -> bool:
    return type(exc.orig).__module__.startswith("psycopg")


def _not_a_collection(exc: DatabaseError, where: str) -> str:
    if _from_server(exc):
        return describe(exc, where)
    return f"{where} is not a studyapp collection ({_reason(exc)})"


def _reason(exc: DatabaseError) -> str:
    return str(exc.orig) if exc.orig is not None else str(exc)
