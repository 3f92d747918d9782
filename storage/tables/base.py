"""The base of every table: a SQLModel whose pydantic validator is built only if ever used."""

from __future__ import annotations

from pydantic import ConfigDict
from sqlmodel import SQLModel


class Table(SQLModel):
    """A table's row. SQLModel makes each table class a pydantic model too, and pydantic built
    its validator and serializer when the class was defined: a quarter of the time the tables'
    import takes (40-60 ms of a start on these machines). Rows are made and read through
    SQLAlchemy (a table model's constructor does not validate), so they are built only if
    something validates or dumps a row (``defer_build``)."""

    # SQLModel types it as its SQLModelConfig (pydantic's ConfigDict with two keys of its own).
    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]
