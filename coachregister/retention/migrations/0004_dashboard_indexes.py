"""Indexes for the dashboards at scale (issue 15): every query of the owner's dashboard
that grows with the register reads an index (accounts/tests/test_dashboard_plans.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0003_paper_task_reminders'),
        ('trajectories', '0003_client_regulation_sent'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='mailboxtask',
            name='assigned_to',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='mailbox_tasks', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='mailboxtask',
            index=models.Index(condition=models.Q(('confirmed_at__isnull', True), ('key_destroyed_at__isnull', True)), fields=['assigned_to'], name='mailbox_task_open_idx'),
        ),
        migrations.AddIndex(
            model_name='mailboxtask',
            index=models.Index(fields=['assigned_to', 'created_at'], name='mailbox_task_created_idx'),
        ),
        migrations.AddIndex(
            model_name='mailboxtask',
            index=models.Index(fields=['assigned_to', 'confirmed_at'], name='mailbox_task_confirmed_idx'),
        ),
        migrations.AddIndex(
            model_name='paperdossiertask',
            index=models.Index(condition=models.Q(('confirmed_at__isnull', True)), fields=['created_at'], name='paper_task_open_idx'),
        ),
        migrations.AddIndex(
            model_name='tombstone',
            index=models.Index(fields=['expires_on'], name='tombstone_expires_idx'),
        ),
    ]
