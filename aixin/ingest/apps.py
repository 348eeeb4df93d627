from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "aixin.ingest"
    label = "ingest"
    verbose_name = "部门数据对接"
