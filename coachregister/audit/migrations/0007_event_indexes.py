"""Only the indexes that a query uses (models.Event names the query beside each): the unique
`hash` and its pattern index go (nothing looks an event up by its link), the foreign key's
own index on `actor` goes (audit_actor_idx starts with it), the `action` pair becomes one
pattern index with `seq`, the object index puts `object_id` first, and the `created_at`
index gets a name. A partial index serves the browser's "denied" filter.

On SQLite altering a column rebuilds the table, which drops its triggers: they are put back
at the end of this migration (and after going back), not only by the post_migrate signal.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _rename_created_at_index(apps, schema_editor, *, named: bool) -> None:
    """The index on created_at: Django's generated name <-> audit_created_idx."""
    event = apps.get_model("audit", "Event")
    generated = schema_editor._create_index_name(event._meta.db_table, ["created_at"])
    (current,) = schema_editor._constraint_names(event, ["created_at"], index=True)
    wanted = "audit_created_idx" if named else generated
    if current != wanted:
        schema_editor.rename_index(
            event,
            models.Index(fields=["created_at"], name=current),
            models.Index(fields=["created_at"], name=wanted),
        )


def name_created_at_index(apps, schema_editor):
    _rename_created_at_index(apps, schema_editor, named=True)


def unname_created_at_index(apps, schema_editor):
    _rename_created_at_index(apps, schema_editor, named=False)


def install_triggers(apps, schema_editor):
    from coachregister.audit import triggers

    triggers.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_engagement_include_contact_details'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, this runs last: the triggers after the rebuilds below.
        migrations.RunPython(migrations.RunPython.noop, install_triggers),
        migrations.RemoveIndex(
            model_name='event',
            name='audit_object_idx',
        ),
        migrations.AlterField(
            model_name='event',
            name='action',
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name='event',
            name='actor',
            field=models.ForeignKey(
                blank=True, db_constraint=False, db_index=False, null=True,
                on_delete=django.db.models.deletion.PROTECT, related_name='+',
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # The existing index on created_at, renamed rather than built again.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='event',
                    name='created_at',
                    field=models.DateTimeField(editable=False),
                ),
                migrations.AddIndex(
                    model_name='event',
                    index=models.Index(fields=['created_at'], name='audit_created_idx'),
                ),
            ],
            database_operations=[
                migrations.RunPython(name_created_at_index, unname_created_at_index),
            ],
        ),
        migrations.AlterField(
            model_name='event',
            name='hash',
            field=models.CharField(max_length=64),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['object_id', 'object_type', 'seq'], name='audit_object_idx'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(
                fields=['action', 'seq'], name='audit_action_idx',
                opclasses=['varchar_pattern_ops', ''],
            ),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(
                condition=models.Q(('outcome', 'denied')), fields=['seq'],
                name='audit_denied_idx',
            ),
        ),
        migrations.RunPython(install_triggers, migrations.RunPython.noop),
    ]
