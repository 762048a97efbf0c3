"""Indexes for the dashboards at scale (issue 15): every query of the owner's dashboard
that grows with the register reads an index (accounts/tests/test_dashboard_plans.py)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coachees', '0005_restriction_ground_contact_access'),
        ('trajectories', '0003_client_regulation_sent'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='trajectory',
            index=models.Index(condition=models.Q(('status__in', ['invited', 'active'])), fields=['coachee'], name='trajectory_open_idx'),
        ),
    ]
