"""A listing event's pseudonyms in their own table (models.Listed), append-only like the
events: its triggers are installed here. Going back is refused while the table holds rows:
dropping them would break their listings' digests for good (`audit verify`)."""

import django.db.models.deletion
from django.db import migrations, models


def install_triggers(apps, schema_editor):
    from coachregister.audit import triggers

    triggers.install(schema_editor.connection)


def refuse_with_rows(apps, schema_editor):
    from coachregister.audit import triggers

    triggers.listed_remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0008_event_sealing'),
    ]

    operations = [
        migrations.CreateModel(
            name='Listed',
            fields=[
                ('pk', models.CompositePrimaryKey('event_id', 'pseudonym', blank=True, editable=False, primary_key=True, serialize=False)),
                ('pseudonym', models.CharField(max_length=64)),
                ('event', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='listed', to='audit.event')),
            ],
            options={
                'verbose_name': 'listed coachee',
                'verbose_name_plural': 'listed coachees',
                'db_table': 'audit_listed',
                'indexes': [models.Index(fields=['pseudonym', 'event'], name='audit_listed_idx')],
            },
        ),
        migrations.RunPython(install_triggers, refuse_with_rows),
    ]
