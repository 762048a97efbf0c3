"""Sealing (audit/services.py): an event may wait without `seq` and links, with a MAC made by
its writer; a partial index finds the waiting ones; the triggers allow the sealing update
and nothing else.

On SQLite altering a column rebuilds the table, which drops its triggers: the new
definitions are put in place at the end of this migration (and the old ones after going
back), not only by the post_migrate signal.
"""

from django.conf import settings
from django.db import migrations, models


def replace_triggers(apps, schema_editor):
    from coachregister.audit import triggers

    triggers.replace(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0007_event_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, this runs last: the triggers after the rebuilds below (the function's
        # definition of this version stays on PostgreSQL; it is a superset of the old one).
        migrations.RunPython(migrations.RunPython.noop, replace_triggers),
        migrations.AddField(
            model_name='event',
            name='mac',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='event',
            name='hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='event',
            name='prev_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='event',
            name='seq',
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.RunPython(replace_triggers, migrations.RunPython.noop),
    ]
