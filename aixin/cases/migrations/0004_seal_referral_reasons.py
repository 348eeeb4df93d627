"""Seal a referral's return reason (退回理由): it may say what the department found."""

from django.db import migrations, models

from aixin.lib import crypto

CONTEXT = "case_referral.reason"  # crypto.ENCRYPTED_FIELDS


def seal(apps, schema_editor):
    referral = apps.get_model("cases", "Referral")
    for pk, reason in referral.objects.exclude(reason="").values_list("pk", "reason").iterator(chunk_size=500):
        referral.objects.filter(pk=pk).update(reason_encrypted=crypto.encrypt(reason, context=CONTEXT))


def unseal(apps, schema_editor):
    referral = apps.get_model("cases", "Referral")
    rows = referral.objects.exclude(reason_encrypted="").values_list("pk", "reason_encrypted")
    for pk, token in rows.iterator(chunk_size=500):
        referral.objects.filter(pk=pk).update(reason=crypto.decrypt(token, context=CONTEXT)[:300])


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_seal_narratives")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="reason_encrypted",
            field=models.TextField(blank=True, default="", verbose_name="退回理由"),
        ),
        migrations.RunPython(seal, unseal),
        migrations.RemoveField(model_name="referral", name="reason"),
        migrations.AlterField(
            model_name="referral", name="reason_encrypted", field=models.TextField(blank=True, verbose_name="退回理由")
        ),
    ]
