# Data, step 2 of 3: encrypt the address, the notes and the parents' disability grade and
# category into the new columns, in batches; the reverse decrypts them back. The change history
# (ChildChange) of the address and the notes is masked: it must not keep a clear copy. Masking
# cannot be undone, so the reverse leaves the history as it is.
#
# The contexts are written out here (not imported) because a migration must keep meaning what it
# meant when it was written; they equal aixin.lib.crypto.ENCRYPTED_FIELDS.

from django.db import migrations

BATCH = 1000
TEXT_COLUMNS = {
    "Child": (("address", "address_encrypted", "child.address"), ("notes", "notes_encrypted", "child.notes")),
}
INT_COLUMNS = {
    "ParentCondition": (
        ("disability_grade", "disability_grade_encrypted", "parent_condition.disability_grade"),
        ("disability_category", "disability_category_encrypted", "parent_condition.disability_category"),
    ),
}
PLACES = ("社区", "村", "居委会", "街道", "镇", "乡")


def _mask_address(address):
    if not address:
        return ""
    cut = max((address.rfind(p) + len(p) for p in PLACES if p in address), default=0)
    return address[:cut] + "****"


def _history_value(field, value):
    if field == "address":
        return _mask_address(value)
    return "（已填写，内容保密）" if value else ""


def _convert(model, columns, convert, *, encrypting):
    names = [c[0] for c in columns] + [c[1] for c in columns]
    written = [c[1] for c in columns] if encrypting else [c[0] for c in columns]
    batch = []
    for row in model.objects.only("pk", *names).order_by("pk").iterator(chunk_size=BATCH):
        for plain, encrypted, context in columns:
            convert(row, plain, encrypted, context)
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, written)
            batch = []
    if batch:
        model.objects.bulk_update(batch, written)


def encrypt_values(apps, schema_editor):
    from aixin.lib import crypto

    def text(row, plain, encrypted, context):
        setattr(row, encrypted, crypto.encrypt(getattr(row, plain) or "", context=context))

    def number(row, plain, encrypted, context):
        setattr(row, encrypted, crypto.encrypt_int(getattr(row, plain), context=context))

    for name, columns in TEXT_COLUMNS.items():
        _convert(apps.get_model("registry", name), columns, text, encrypting=True)
    for name, columns in INT_COLUMNS.items():
        _convert(apps.get_model("registry", name), columns, number, encrypting=True)

    ChildChange = apps.get_model("registry", "ChildChange")
    batch = []
    for change in ChildChange.objects.filter(field__in=("address", "notes")).order_by("pk").iterator(
        chunk_size=BATCH
    ):
        change.old_value = _history_value(change.field, change.old_value)
        change.new_value = _history_value(change.field, change.new_value)
        batch.append(change)
        if len(batch) >= BATCH:
            ChildChange.objects.bulk_update(batch, ["old_value", "new_value"])
            batch = []
    if batch:
        ChildChange.objects.bulk_update(batch, ["old_value", "new_value"])


def decrypt_values(apps, schema_editor):
    from aixin.lib import crypto

    def text(row, plain, encrypted, context):
        setattr(row, plain, crypto.decrypt(getattr(row, encrypted), context=context))

    def number(row, plain, encrypted, context):
        setattr(row, plain, crypto.decrypt_int(getattr(row, encrypted), context=context))

    for name, columns in TEXT_COLUMNS.items():
        _convert(apps.get_model("registry", name), columns, text, encrypting=False)
    for name, columns in INT_COLUMNS.items():
        _convert(apps.get_model("registry", name), columns, number, encrypting=False)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0003_encrypted_sensitive_columns'),
    ]

    operations = [
        migrations.RunPython(encrypt_values, decrypt_values, elidable=False),
    ]
