from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class RegistryConfig(AppConfig):
    name = "aixin.registry"
    label = "registry"
    verbose_name = "儿童台账"

    def ready(self) -> None:
        # A wrong field-key setting (unreadable or world-readable key file, bad key, SM4 asked
        # for where it is missing) stops the process at start, not at the first child saved.
        from aixin.lib import crypto

        try:
            crypto.keyring()
        except crypto.KeyringError as exc:
            raise ImproperlyConfigured(f"field encryption keys: {exc}") from exc
