# Schema: when a child's personal fields were minimised after the retention period (aixin.registry.retention).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_drop_plaintext_sensitive_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="child",
            name="minimised_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="个人信息最小化时间"),
        ),
    ]
