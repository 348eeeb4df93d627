from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "aixin.registry"
    label = "registry"
    verbose_name = "儿童台账"
