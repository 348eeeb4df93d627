from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "aixin.cases"
    label = "cases"
    verbose_name = "风险报告与闭环处置"
