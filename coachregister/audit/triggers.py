"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL.

They stop the application (and anyone using its connection by mistake) from rewriting
history. Someone with full database rights can still drop them; the hash chain is what then
shows the tampering (`coachregister audit verify`).

TRUNCATE is refused always. UPDATE is refused but for one: sealing (services.py), where an
unsealed event with a MAC gets its `seq`, `prev_hash` and `hash` and every other column stays
as it was; once sealed, an event cannot change. DELETE is refused unless a row of the permit table
`audit_prune_permit` covers the event (`OLD.seq <= upto`): retention (art. 10) removes the
oldest whole months, and only the prune service (prune.py) writes a permit, after it has
appended a signed prune record to the evidence directory, and removes it again in the same
transaction, so no permit is ever visible to another connection. A permit written by anyone
else (someone with the application's database rights) lets a deletion through, but it cannot
hide it: `audit verify` requires a trail that starts after
sequence 1 to start exactly after a signed prune record (its sequence and hash), and reports
a permit row left in place. One table and one trigger condition that both engines share was
chosen over a session setting or a database role, which SQLite does not have.

The pseudonyms that listing events name (`audit_listed`, models.Listed) have triggers of
their own: no UPDATE, no TRUNCATE, and a DELETE only while a permit exists (the prune
removes the rows of the events it removes, just before them).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_event"
# The pseudonyms a listing event names (models.Listed): append-only like the events, and
# removed only with them, by a prune.
LISTED = "audit_listed"
# A permit exists only inside the prune's own transaction (prune.py), which deletes the rows
# of the events it removes. The condition names no other table: on SQLite a trigger that
# names `audit_event` would break every later migration that rebuilds that table. A row
# deleted under a permit someone else wrote still breaks its listing's digest (verify).
_LISTED_PERMIT = "EXISTS (SELECT 1 FROM audit_prune_permit)"

# The columns that sealing leaves as they are.
_KEPT = ("id", "created_at", "actor_id", "actor_role", "client_ip", "action", "object_type",
         "object_id", "outcome", "detail", "key_id", "mac")
_SEALING = (
    "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.prev_hash = '' AND OLD.hash = '' "
    "AND NEW.prev_hash <> '' AND NEW.hash <> '' AND OLD.mac <> ''"
)

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON {TABLE}
        WHEN NOT ({_SEALING} AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in _KEPT)})
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
        WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.seq <= upto)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_SQLITE_LISTED = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_listed_no_update BEFORE UPDATE ON {LISTED}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_listed_no_delete BEFORE DELETE ON {LISTED}
        WHEN NOT {_LISTED_PERMIT}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]
_SQLITE_LISTED_DROP = [
    "DROP TRIGGER IF EXISTS audit_listed_no_update",
    "DROP TRIGGER IF EXISTS audit_listed_no_delete",
]

# One function for UPDATE, DELETE and TRUNCATE: only a DELETE of a row that a permit covers
# and the sealing UPDATE pass (OLD exists only for row-level triggers, hence the nested IF).
_POSTGRES_BODY = f"""
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.seq <= upto) THEN
          RETURN OLD;
        END IF;
      ELSIF TG_OP = 'UPDATE' THEN
        IF {_SEALING} AND ({", ".join(f"NEW.{c}" for c in _KEPT)})
            IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _KEPT)}) THEN
          RETURN NEW;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501';
    END;
"""  # noqa: S608 (fixed column names, no input)


def _postgres_install(table: str, body: str) -> list[str]:
    """A table's refusing function (named after it) and its two triggers: every row's UPDATE
    and DELETE go through the function, and so does a TRUNCATE."""
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
           {body}
           $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()""",
    ]


def _postgres_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_{kind} ON {table}"
            for kind in ("no_change", "no_truncate")]


# A listing's rows: no UPDATE, no TRUNCATE, a DELETE only under a prune permit.
_POSTGRES_LISTED_BODY = f"""
    BEGIN
      IF TG_OP = 'DELETE' AND {_LISTED_PERMIT} THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501';
    END;
"""
_POSTGRES_INSTALL = _postgres_install(TABLE, _POSTGRES_BODY)
_POSTGRES_DROP = _postgres_drop(TABLE)
_POSTGRES_LISTED = _postgres_install(LISTED, _POSTGRES_LISTED_BODY)
_POSTGRES_LISTED_DROP = _postgres_drop(LISTED)


# Before migration 0008 the table has no `mac` and SQLite refuses a trigger that names a
# missing column whenever the table changes: the earlier migrations install this one.
_SQLITE_BEFORE_SEALING = f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE
    ON {TABLE} BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"""


def _statements(connection: BaseDatabaseWrapper, install: bool) -> list[str]:
    """The statements for the tables that exist: the earlier migrations install the
    triggers before migration 0009 creates the listing table."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        columns = {c.name for c in connection.introspection.get_table_description(
            cursor, TABLE)} if connection.vendor == "sqlite" else set()
    listed = LISTED in tables
    if connection.vendor == "sqlite":
        if not install:
            return _SQLITE_DROP + (_SQLITE_LISTED_DROP if listed else [])
        if "mac" not in columns:
            return [_SQLITE_BEFORE_SEALING, *_SQLITE_INSTALL[1:]]
        return _SQLITE_INSTALL + (_SQLITE_LISTED if listed else [])
    if connection.vendor == "postgresql":
        if not install:
            return _POSTGRES_DROP + (_POSTGRES_LISTED_DROP if listed else [])
        return _POSTGRES_INSTALL + (_POSTGRES_LISTED if listed else [])
    raise ImproperlyConfigured(f"no append-only triggers for {connection.vendor}")


def install(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True):
            cursor.execute(statement)


def drop(connection: BaseDatabaseWrapper) -> None:
    """Only for tests that play an attacker with database rights, and for the test harness."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False):
            cursor.execute(statement)


def listed_remove(connection: BaseDatabaseWrapper) -> None:
    """Before migration 0009 is reversed: refuse while listings have rows (the table and
    they would go, and every listing event would fail `audit verify`); else drop the table's
    triggers and, on PostgreSQL, their function."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {LISTED}")  # noqa: S608 (a fixed name)
        if cursor.fetchone()[0]:
            raise ImproperlyConfigured(
                f"{LISTED} holds the pseudonyms of listing events: going back would lose them")
        for statement in (_POSTGRES_LISTED_DROP if connection.vendor == "postgresql"
                          else _SQLITE_LISTED_DROP):
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS audit_listed_refuse()")


def replace(connection: BaseDatabaseWrapper) -> None:
    """Put the current definitions in place of older ones (migration 0005): SQLite has no
    CREATE OR REPLACE TRIGGER, so drop and create, in the migration's transaction."""
    drop(connection)
    install(connection)


def reinstall_after_migrate(using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    install(connections[using])


# --- checking the definitions, not only the names (`audit verify`) ---------------------------

_POSTGRES_EXPECTED = {
    f"{table}_no_change": f"CREATE TRIGGER {table}_no_change BEFORE DELETE OR UPDATE ON "
    f"{table} FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
    for table in (TABLE, LISTED)
} | {
    f"{table}_no_truncate": f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "
    f"{table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()"
    for table in (TABLE, LISTED)
}
_POSTGRES_FUNCTIONS = {
    f"{TABLE}_refuse": " ".join(_POSTGRES_BODY.split()),
    f"{LISTED}_refuse": " ".join(_POSTGRES_LISTED_BODY.split()),
}


def _normal(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").replace("public.", "").split())


def problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What is wrong with the append-only triggers: missing, changed, disabled or joined by
    another trigger, or a prune permit left in place. Someone who can drop a trigger can also
    replace it with one that does nothing under the same name; comparing the definitions
    shows that too. A permit outlives no prune (prune.py), so a row there is someone's way
    around the DELETE trigger."""
    found: dict[str, str] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN (%s, %s)", [TABLE, LISTED],
            )
            found = {name: _normal(sql) for name, sql in cursor.fetchall()}
            expected = {
                statement.split()[5]: _normal(statement)
                for statement in _SQLITE_INSTALL + _SQLITE_LISTED
            }
        else:
            cursor.execute(
                "SELECT tgname, tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname IN (%s, %s) AND NOT tgisinternal",
                [TABLE, LISTED],
            )
            rows = cursor.fetchall()
            found = {name: _normal(sql) for name, _enabled, sql in rows}
            expected = dict(_POSTGRES_EXPECTED)
            disabled = [name for name, enabled, _sql in rows if enabled not in ("O", "A")]
            cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname IN (%s, %s)",
                           list(_POSTGRES_FUNCTIONS))
            bodies = sorted((name, _normal(body)) for name, body in cursor.fetchall())
        cursor.execute("SELECT COUNT(*) FROM audit_prune_permit")
        permits = cursor.fetchone()[0]
    issues = [f"trigger {name} is missing" for name in sorted(set(expected) - set(found))]
    issues += [f"trigger {name} is not ours" for name in sorted(set(found) - set(expected))]
    issues += [
        f"trigger {name} has been changed"
        for name in sorted(set(found) & set(expected))
        if found[name] != expected[name]
    ]
    if connection.vendor == "postgresql":
        issues += [f"trigger {name} is disabled" for name in sorted(disabled)]
        issues += [
            f"the function {name} has been changed"
            for name, body in _POSTGRES_FUNCTIONS.items()
            if [b for n, b in bodies if n == name] != [body]
        ]
    if permits:
        issues.append(f"{permits} prune permit(s) left in place")
    return issues
