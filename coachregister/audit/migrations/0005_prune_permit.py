"""The prune permit table, and the append-only triggers that let a permitted DELETE through
(retention of the audit trail, art. 10; see triggers.py). SQLite cannot replace a trigger, so
the triggers are dropped and created again; on PostgreSQL the function is replaced."""

from django.db import migrations, models

# The definitions before this migration, for going back.
_OLD_SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_OLD_POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501'; END;
       $$ LANGUAGE plpgsql""",
]


def forward(apps, schema_editor):
    from coachregister.audit import triggers

    triggers.replace(schema_editor.connection)


def backward(apps, schema_editor):
    from coachregister.audit import triggers

    connection = schema_editor.connection
    triggers.drop(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in _OLD_SQLITE:
                cursor.execute(statement)
        else:
            for statement in _OLD_POSTGRES:
                cursor.execute(statement)
            cursor.execute(
                "CREATE OR REPLACE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON "
                "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()"
            )
            cursor.execute(
                "CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "
                "audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_event_key_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="PrunePermit",
            fields=[
                ("upto", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
            options={
                "db_table": "audit_prune_permit",
            },
        ),
        migrations.RunPython(forward, backward),
    ]
