from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "aixin.activities"
    label = "activities"
    verbose_name = "团体关爱"
