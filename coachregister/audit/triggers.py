"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL.

They stop the application (and anyone using its connection by mistake) from rewriting
history. Someone with full database rights can still drop them; the hash chain is what then
shows the tampering (`coachregister audit verify`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_event"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

_POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501'; END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()""",
    f"""CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_event_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}",
]


def _statements(connection: BaseDatabaseWrapper, install: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_DROP
    if connection.vendor == "postgresql":
        return _POSTGRES_INSTALL if install else _POSTGRES_DROP
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


def reinstall_after_migrate(using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    install(connections[using])


# --- checking the definitions, not only the names (`audit verify`) ---------------------------

_POSTGRES_EXPECTED = {
    "audit_event_no_change": "CREATE TRIGGER audit_event_no_change BEFORE DELETE OR UPDATE ON "
    "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()",
    "audit_event_no_truncate": "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "
    "audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()",
}
_POSTGRES_FUNCTION = (
    "BEGIN RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501'; END;"
)


def _normal(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").replace("public.", "").split())


def problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What is wrong with the append-only triggers: missing, changed, disabled or joined by
    another trigger. Someone who can drop a trigger can also replace it with one that does
    nothing under the same name; comparing the definitions shows that too."""
    found: dict[str, str] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            found = {name: _normal(sql) for name, sql in cursor.fetchall()}
            expected = {
                statement.split()[5]: _normal(statement) for statement in _SQLITE_INSTALL
            }
        else:
            cursor.execute(
                "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
            rows = cursor.fetchall()
            found = {name: _normal(sql) for name, _enabled, sql in rows}
            expected = dict(_POSTGRES_EXPECTED)
            disabled = [name for name, enabled, _sql in rows if enabled not in ("O", "A")]
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'audit_event_refuse'")
            bodies = [_normal(body) for (body,) in cursor.fetchall()]
    issues = [f"trigger {name} is missing" for name in sorted(set(expected) - set(found))]
    issues += [f"trigger {name} is not ours" for name in sorted(set(found) - set(expected))]
    issues += [
        f"trigger {name} has been changed"
        for name in sorted(set(found) & set(expected))
        if found[name] != expected[name]
    ]
    if connection.vendor == "postgresql":
        issues += [f"trigger {name} is disabled" for name in sorted(disabled)]
        if bodies != [_POSTGRES_FUNCTION]:
            issues.append("the function audit_event_refuse has been changed")
    return issues
