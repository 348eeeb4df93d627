from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "aixin.notify"
    label = "notify"
    verbose_name = "通知"
