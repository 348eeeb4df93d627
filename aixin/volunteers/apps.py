from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "aixin.volunteers"
    label = "volunteers"
    verbose_name = "爱心妈妈"
