"""Seal the bodies of notifications (they may quote a risk report or a case note)."""

from django.db import migrations, models

from aixin.lib import crypto

CONTEXT = "notification.body"  # crypto.ENCRYPTED_FIELDS


def seal(apps, schema_editor):
    notification = apps.get_model("notify", "Notification")
    rows = notification.objects.exclude(body="").values_list("pk", "body")
    for pk, body in rows.iterator(chunk_size=500):
        notification.objects.filter(pk=pk).update(body_encrypted=crypto.encrypt(body, context=CONTEXT))


def unseal(apps, schema_editor):
    notification = apps.get_model("notify", "Notification")
    rows = notification.objects.exclude(body_encrypted="").values_list("pk", "body_encrypted")
    for pk, token in rows.iterator(chunk_size=500):
        notification.objects.filter(pk=pk).update(body=crypto.decrypt(token, context=CONTEXT))


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_taskforce_action_kind")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="body_encrypted",
            field=models.TextField(blank=True, default="", verbose_name="内容"),
        ),
        migrations.RunPython(seal, unseal),
        migrations.RemoveField(model_name="notification", name="body"),
        migrations.AlterField(
            model_name="notification", name="body_encrypted", field=models.TextField(blank=True, verbose_name="内容")
        ),
    ]
