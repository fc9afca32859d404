from __future__ import annotations

from sqlalchemy import inspect

from data.db import has_schema, make_engine, migrate
from data.models import Base

from ..conftest import Database


def test_migrations_create_every_model_table_from_empty(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert not has_schema(engine)
    migrate(engine)
    migrate(engine)  # idempotent
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models_on_each_backend(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspect(db.engine).get_columns(table.name)}
        assert {c.name for c in table.columns} == columns, table.name


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
