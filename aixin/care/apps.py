from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "aixin.care"
    label = "care"
    verbose_name = "常态关爱"

    def ready(self) -> None:
        from aixin.care import retention

        retention.connect()
