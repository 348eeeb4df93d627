"""What each source last sent about a child moves from a row of its own (ChildSourceState) to a
column of the child (Child.source_hashes): one row and two foreign-key checks fewer for each
imported child."""

from django.db import migrations


def copy_hashes(apps, schema_editor):
    """One statement: a registry of half a million children moves in seconds."""
    child = schema_editor.quote_name(apps.get_model("registry", "Child")._meta.db_table)
    state = schema_editor.quote_name(apps.get_model("ingest", "ChildSourceState")._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        sql = (
            f"UPDATE {child} c SET source_hashes = s.hashes FROM (SELECT child_id, "
            f"jsonb_object_agg(source, row_hash) AS hashes FROM {state} GROUP BY child_id) s "
            "WHERE c.id = s.child_id"
        )
    else:
        sql = (
            f"UPDATE {child} SET source_hashes = (SELECT json_group_object(source, row_hash) "
            f"FROM {state} s WHERE s.child_id = {child}.id) "
            f"WHERE id IN (SELECT child_id FROM {state})"
        )
    schema_editor.execute(sql)


def copy_back(apps, schema_editor):
    state_model = apps.get_model("ingest", "ChildSourceState")
    child_model = apps.get_model("registry", "Child")
    rows = [
        state_model(child_id=pk, source=source, row_hash=row_hash)
        for pk, hashes in child_model.objects.exclude(source_hashes={}).values_list("pk", "source_hashes").iterator()
        for source, row_hash in (hashes or {}).items()
    ]
    state_model.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0002_leaner_indexes"),
        ("registry", "0008_child_source_hashes"),
    ]

    operations = [
        migrations.RunPython(copy_hashes, copy_back),
        migrations.DeleteModel(name="ChildSourceState"),
    ]
