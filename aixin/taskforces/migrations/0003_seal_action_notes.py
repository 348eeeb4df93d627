"""Seal the text of progress notes (aixin.ops.datakeys). The append-only triggers are dropped
for the rewrite and made again (on SQLite, removing a column rebuilds the table, which loses its
triggers anyway)."""

import importlib

from django.db import migrations, models

from aixin.ops.datakeys import sealing_migration

TRIGGERS = importlib.import_module("aixin.taskforces.migrations.0002_action_notes_append_only")
DROP = {"sqlite": TRIGGERS.SQLITE_DOWN, "postgresql": TRIGGERS.PG_DOWN}
CREATE = {"sqlite": TRIGGERS.SQLITE_UP, "postgresql": TRIGGERS.PG_UP}


class Migration(migrations.Migration):
    dependencies = [("taskforces", "0002_action_notes_append_only"), ("ops", "0001_data_keys")]

    operations = [
        migrations.RunPython(TRIGGERS._run(DROP), TRIGGERS._run(CREATE)),
        migrations.AddField(
            model_name="actionnote",
            name="text_sealed",
            field=models.TextField(blank=True, default="", verbose_name="进展情况"),
        ),
        sealing_migration("taskforces", "actionnote", "text", "text_sealed", "taskforce.action_note"),
        migrations.AlterField(
            model_name="actionnote", name="text", field=models.TextField(blank=True, verbose_name="进展情况")
        ),
        migrations.RemoveField(model_name="actionnote", name="text"),
        migrations.AlterField(
            model_name="actionnote", name="text_sealed", field=models.TextField(blank=True, verbose_name="进展情况")
        ),
        migrations.RunPython(TRIGGERS._run(CREATE), TRIGGERS._run(DROP)),
    ]
