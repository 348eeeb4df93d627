from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "aixin.ops"
    label = "ops"
    verbose_name = "运维（备份与恢复）"
