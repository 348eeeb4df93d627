from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "aixin.pairing"
    label = "pairing"
    verbose_name = "结对"
