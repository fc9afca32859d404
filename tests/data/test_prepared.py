"""`data.db.run`: a prebuilt statement executed with its compiled form held per dialect —
the same rows as ``Connection.execute``, and nothing kept once the engine is gone."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from sqlalchemy import bindparam, column, select, table

from data.db import make_engine, run

_ITEMS = table("items", column("id"), column("name"))
_BY_ID = select(_ITEMS.c.name).where(_ITEMS.c.id == bindparam("item_id")).limit(1)


def _dialect_used_once(folder: Path) -> weakref.ref[object]:
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder}/items.sqlite3")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        connection.exec_driver_sql("INSERT INTO items VALUES (1, 'one'), (2, 'two')")
        assert run(connection, _BY_ID, {"item_id": 2}).all() == [("two",)]
        assert run(connection, _BY_ID, {"item_id": 1}).all() == [("one",)]
        assert connection.execute(_BY_ID, {"item_id": 1}).all() == [("one",)]
    dialect = weakref.ref(engine.dialect)
    engine.dispose()
    return dialect


def test_run_reads_as_execute_does_and_keeps_no_dialect_of_an_engine_gone(
    tmp_path: Path,
) -> None:
    dialects = [_dialect_used_once(tmp_path / str(n)) for n in range(3)]
    gc.collect()
    assert [alive() for alive in dialects] == [None, None, None]
