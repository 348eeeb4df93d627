"""Seal what was reported and written: a report's description, an entry's text, an event's note
(aixin.ops.datakeys). The append-only triggers are dropped for the rewrite and made again (on
SQLite, removing a column rebuilds the table, which loses its triggers anyway)."""

import importlib

from django.db import migrations, models

from aixin.ops.datakeys import sealing_migration

TRIGGERS = importlib.import_module("aixin.cases.migrations.0002_append_only_triggers")
COLUMNS = (
    # model, clear column, sealed column, context (crypto.SEALED_FIELDS)
    ("report", "description", "description_sealed", "case_report.description", "发现的情况"),
    ("reportentry", "text", "text_sealed", "case_report_entry.text", "内容"),
    ("caseevent", "note", "note_sealed", "case_event.note", "说明"),
)

DROP = {"sqlite": TRIGGERS.SQLITE_DOWN, "postgresql": TRIGGERS.PG_DOWN}
CREATE = {"sqlite": TRIGGERS.SQLITE_UP, "postgresql": TRIGGERS.PG_UP}


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_append_only_triggers"), ("ops", "0001_data_keys")]

    operations = [
        migrations.RunPython(TRIGGERS._run(DROP), TRIGGERS._run(CREATE)),
        *(
            migrations.AddField(
                model_name=model, name=sealed, field=models.TextField(blank=True, default="", verbose_name=label)
            )
            for model, _clear, sealed, _context, label in COLUMNS
        ),
        *(sealing_migration("cases", model, clear, sealed, context) for model, clear, sealed, context, _l in COLUMNS),
        # Blank first, so that reversing the removal can add the column back to existing rows.
        migrations.AlterField(
            model_name="report", name="description", field=models.TextField(blank=True, verbose_name="发现的情况")
        ),
        *(migrations.RemoveField(model_name=model, name=clear) for model, clear, _s, _c, _l in COLUMNS),
        *(
            migrations.AlterField(
                model_name=model, name=sealed, field=models.TextField(blank=True, verbose_name=label)
            )
            for model, _clear, sealed, _context, label in COLUMNS
        ),
        migrations.RunPython(TRIGGERS._run(CREATE), TRIGGERS._run(DROP)),
    ]
