from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.utils import timezone


def backfill(apps: Any, schema_editor: Any) -> None:
    """Accounts deactivated before the field existed: the date of their last deactivation in
    the audit trail, or today when the trail no longer has it (the staff retention period of
    art. 10.1 then starts now, never earlier than can be shown)."""
    User = apps.get_model("accounts", "User")
    Event = apps.get_model("audit", "Event")
    for user in User.objects.filter(is_active=False, deactivated_at__isnull=True):
        last = (
            Event.objects.filter(action="accounts.user.deactivated", object_type="user",
                                 object_id=str(user.pk))
            .order_by("-seq").values_list("created_at", flat=True).first()
        )
        User.objects.filter(pk=user.pk).update(deactivated_at=last or timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_thirdpartyscope'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='deactivated_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deactivated'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
