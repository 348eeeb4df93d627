"""Make progress notes append-only in the database itself (like the audit log): an UPDATE or
DELETE of a note is refused even from raw SQL on the application's connection."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER taskforce_note_no_update BEFORE UPDATE ON taskforces_actionnote
       BEGIN SELECT RAISE(ABORT, 'progress notes are append-only'); END;""",
    """CREATE TRIGGER taskforce_note_no_delete BEFORE DELETE ON taskforces_actionnote
       BEGIN SELECT RAISE(ABORT, 'progress notes are append-only'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS taskforce_note_no_update;",
    "DROP TRIGGER IF EXISTS taskforce_note_no_delete;",
]

PG_UP = [
    """CREATE OR REPLACE FUNCTION taskforce_note_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'progress notes are append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER taskforce_note_no_update BEFORE UPDATE OR DELETE ON taskforces_actionnote
       FOR EACH ROW EXECUTE FUNCTION taskforce_note_append_only();""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS taskforce_note_no_update ON taskforces_actionnote;",
    "DROP FUNCTION IF EXISTS taskforce_note_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("taskforces", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
