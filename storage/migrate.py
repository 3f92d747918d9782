"""Alembic, run from the installed package: ``upgrade_to_head`` brings any database up to date."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in storage/migrations/versions/ (tests/test_storage.py keeps it equal to
# alembic's head). A database already there is opened without importing alembic, which is a
# tenth of the time `doithoai run` takes to answer its first message.
HEAD_REVISION = "0029"


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration: the migrations shipped in the package, run on ``engine``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    if stored_revisions(engine) == {HEAD_REVISION}:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def stored_revisions(engine: Engine) -> set[str]:
    """The revisions alembic recorded in the database; none when it has no alembic table yet."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no such table: a new database
        return set()
    return {row[0] for row in rows}


def is_at_head(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())


def head_revisions() -> set[str]:
    """The heads of the migration scripts, as alembic reads them."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
