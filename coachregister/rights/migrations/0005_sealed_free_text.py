"""Free text about a coachee is sealed under the coachee's data key (art. 6, issue 9 point 10):
how identity was checked, the extension reasons, the justification and the other form of a
request. Existing rows are encrypted through the vault, then the plain columns are dropped.
A request whose coachee was already erased keeps an empty marker: the text is not kept."""

from django.db import migrations, models

FIELDS = {
    "verification": "request_verification",
    "extension_reasons": "request_extension_reasons",
    "justification": "request_justification",
    "other_form": "request_other_form",
}


def seal_texts(apps, schema_editor):
    DataRequest = apps.get_model("rights", "DataRequest")
    rows = DataRequest.objects.select_related("coachee").order_by("pk")
    if not rows.exists():
        return  # an empty database needs no keys
    from coachregister.coachees import vault
    from coachregister.lib import crypto

    for row in rows.iterator():
        for plain, field in FIELDS.items():
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
        row.save(update_fields=[f"{plain}_enc" for plain in FIELDS])


def open_texts(apps, schema_editor):
    DataRequest = apps.get_model("rights", "DataRequest")
    rows = DataRequest.objects.select_related("coachee").order_by("pk")
    if not rows.exists():
        return
    from coachregister.coachees import vault
    from coachregister.lib import crypto

    for row in rows.iterator():
        for plain, field in FIELDS.items():
            blob = getattr(row, f"{plain}_enc")
            text = ""
            if blob and row.coachee is not None:
                try:
                    text = vault.decrypt_for(row.coachee, field, bytes(blob))
                except crypto.DecryptionError:
                    text = ""
            setattr(row, plain, text)
        row.save(update_fields=list(FIELDS))


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0004_datarequest_reminded_overdue_at_and_more"),
        ("coachees", "0004_vault_keys_in_epochs"),
    ]

    operations = [
        *[
            migrations.AddField(
                model_name="datarequest",
                name=f"{plain}_enc",
                field=models.BinaryField(blank=True, null=True),
            )
            for plain in FIELDS
        ],
        migrations.RunPython(seal_texts, open_texts, elidable=False),
        *[migrations.RemoveField(model_name="datarequest", name=plain) for plain in FIELDS],
    ]
