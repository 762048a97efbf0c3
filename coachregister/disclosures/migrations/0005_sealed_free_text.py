"""Free text about a coachee is sealed under the coachee's data key (art. 6, issue 9 point 10):
the purpose and the statute or order of a disclosure, and the purpose of a consent to a
disclosure. Existing rows are encrypted through the vault, then the plain columns are dropped.
A register entry whose coachee was already erased keeps an empty marker, not the text."""

from django.db import migrations, models

FIELDS = {
    "disclosure": {"purpose": "disclosure_purpose", "legal_ground": "disclosure_legal_ground"},
    "consent": {"disclosure_purpose": "consent_disclosure_purpose"},
}


def _rows(apps, model):
    return apps.get_model("disclosures", model).objects.select_related("coachee").order_by("pk")


def seal_texts(apps, schema_editor):
    if not any(_rows(apps, model).exists() for model in FIELDS):
        return  # an empty database needs no keys
    from coachregister.coachees import vault
    from coachregister.lib import crypto

    for model, fields in FIELDS.items():
        for row in _rows(apps, model).iterator():
            for plain, field in fields.items():
                text = (getattr(row, plain) or "").strip()
                if not text:
                    sealed = None
                elif row.coachee is None:
                    sealed = b""  # erased before this migration: shown as "(erased)"
                else:
                    try:
                        sealed = vault.encrypt_for(row.coachee, field, text)
                    except crypto.DecryptionError:  # the coachee's key is already destroyed
                        sealed = b""
                setattr(row, f"{plain}_enc", sealed)
            row.save(update_fields=[f"{plain}_enc" for plain in fields])


def open_texts(apps, schema_editor):
    if not any(_rows(apps, model).exists() for model in FIELDS):
        return
    from coachregister.coachees import vault
    from coachregister.lib import crypto

    for model, fields in FIELDS.items():
        for row in _rows(apps, model).iterator():
            for plain, field in fields.items():
                blob = getattr(row, f"{plain}_enc")
                text = ""
                if blob and row.coachee is not None:
                    try:
                        text = vault.decrypt_for(row.coachee, field, bytes(blob))
                    except crypto.DecryptionError:
                        text = ""
                setattr(row, plain, text)
            row.save(update_fields=list(fields))


class Migration(migrations.Migration):
    dependencies = [
        ("disclosures", "0004_alter_disclosure_consent"),
        ("coachees", "0004_vault_keys_in_epochs"),
    ]

    operations = [
        *[
            migrations.AddField(
                model_name=model,
                name=f"{plain}_enc",
                field=models.BinaryField(blank=True, null=True),
            )
            for model, fields in FIELDS.items()
            for plain in fields
        ],
        migrations.RunPython(seal_texts, open_texts, elidable=False),
        *[
            migrations.RemoveField(model_name=model, name=plain)
            for model, fields in FIELDS.items()
            for plain in fields
        ],
    ]
