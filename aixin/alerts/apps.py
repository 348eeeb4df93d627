from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "aixin.alerts"
    label = "alerts"
    verbose_name = "预警提醒"
