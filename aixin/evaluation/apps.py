from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "aixin.evaluation"
    label = "evaluation"
    verbose_name = "第三方评估"
