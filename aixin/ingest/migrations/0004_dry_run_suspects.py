"""A dry run keeps a description of its duplicate suspects on its batch (its children and
suspect rows are rolled back), so that its page lists the suspects it counts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0003_source_hashes_on_child"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="dry_run_suspects",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
