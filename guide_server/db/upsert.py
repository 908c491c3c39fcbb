"""Insert-or-update and insert-unless-present in one statement, on SQLite, PostgreSQL and others."""

from __future__ import annotations

from sqlalchemy import Table, func, insert, literal, not_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}


def upsert(conn: Connection, table: Table, key: dict, values: dict, keep_first: tuple[str, ...] = (),
           update_existing: bool = True, unless=None) -> None:
    """Insert a row or update it in one statement; ``keep_first`` columns keep a non-null old value.
    ``unless(incoming)``, given the incoming values as expressions, is a condition on the stored
    row under which it is left as it is."""
    dialect = _DIALECTS.get(conn.dialect.name)
    if dialect is not None:
        stmt = dialect.insert(table).values(**key, **values)
        if not update_existing:
            conn.execute(stmt.on_conflict_do_nothing(index_elements=list(key)))
            return
        new = {c: func.coalesce(table.c[c], stmt.excluded[c]) if c in keep_first else stmt.excluded[c] for c in values}
        where = not_(unless(stmt.excluded)) if unless is not None else None
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=new, where=where))
        return
    try:  # other databases: try the insert in a savepoint, update on a clash
        with conn.begin_nested():
            conn.execute(insert(table).values(**key, **values))
    except IntegrityError:
        if update_existing:
            where = [table.c[k] == v for k, v in key.items()]
            if unless is not None:
                where.append(not_(unless({c: literal(v, table.c[c].type) for c, v in values.items()})))
            conn.execute(update(table).where(*where).values(
                {c: func.coalesce(table.c[c], v) if c in keep_first else v for c, v in values.items()}))


def insert_unless_present(conn: Connection, table: Table, row: dict, unique: list[str]) -> bool:
    """Insert ``row`` unless a row with the same ``unique`` columns is stored already; True when inserted."""
    dialect = _DIALECTS.get(conn.dialect.name)
    if dialect is not None:
        stmt = dialect.insert(table).values(**row).on_conflict_do_nothing(index_elements=unique)
        return conn.execute(stmt).rowcount == 1
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**row))
        return True
    except IntegrityError:
        return False
