"""Data keys move from the master key to the epoch keys (issue 9): every coachee's data key is
re-wrapped under the current epoch and the email re-indexed with that epoch's index key; the
old index key (VaultKey) goes. Needs the master key when coachees exist."""

from django.db import migrations


def to_epochs(apps, schema_editor):
    Coachee = apps.get_model("coachees", "Coachee")
    if not Coachee.objects.exists():
        return
    from coachregister.keys import keyring
    from coachregister.lib import crypto

    masters = {key.kid for key in keyring.master_keys()}
    epoch = keyring.current_epoch().id
    for coachee in Coachee.objects.filter(key_id__in=masters).iterator():
        purpose = f"coachee:{coachee.pseudonym}"
        data_key = crypto.unwrap_key(
            bytes(coachee.wrapped_key), coachee.key_id, keyring.master_keys(), purpose
        )
        email = crypto.decrypt_text(data_key, bytes(coachee.email_enc), f"{purpose}:email")
        coachee.wrapped_key = crypto.wrap_key(
            data_key, crypto.MasterKey(epoch, keyring._epoch_key(epoch)), purpose
        )
        coachee.key_id = epoch
        coachee.email_index = keyring.blind_index(email.strip().casefold(), epoch)
        coachee.save(update_fields=["wrapped_key", "key_id", "email_index"])


class Migration(migrations.Migration):

    dependencies = [
        ('coachees', '0003_coachee_language'),
    ]

    operations = [
        migrations.RunPython(to_epochs, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='VaultKey',
        ),
    ]
