# Data, step 2 of 3: seal the notes of every care record into the new column, in batches; the
# reverse opens them back into the clear column. The context is written out here (not imported)
# because a migration must keep meaning what it meant when it was written; it equals
# aixin.lib.crypto.ENCRYPTED_FIELDS.

from django.db import migrations

BATCH = 1000
CONTEXT = "care_record.notes"


def _convert(apps, convert, written):
    CareRecord = apps.get_model("care", "CareRecord")
    batch = []
    for record in CareRecord.objects.only("pk", "notes", "notes_encrypted").order_by("pk").iterator(
        chunk_size=BATCH
    ):
        convert(record)
        batch.append(record)
        if len(batch) >= BATCH:
            CareRecord.objects.bulk_update(batch, [written])
            batch = []
    if batch:
        CareRecord.objects.bulk_update(batch, [written])


def seal(apps, schema_editor):
    from aixin.lib import crypto

    def convert(record):
        record.notes_encrypted = crypto.encrypt(record.notes or "", context=CONTEXT)

    with crypto.pinned_keyring():
        _convert(apps, convert, "notes_encrypted")


def unseal(apps, schema_editor):
    from aixin.lib import crypto

    def convert(record):
        record.notes = crypto.decrypt(record.notes_encrypted, context=CONTEXT)

    with crypto.pinned_keyring():
        _convert(apps, convert, "notes")


class Migration(migrations.Migration):
    dependencies = [("care", "0004_carerecord_notes_encrypted")]

    operations = [migrations.RunPython(seal, unseal, elidable=False)]
