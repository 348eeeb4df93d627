from django.apps import AppConfig


class TaskforcesConfig(AppConfig):
    name = "aixin.taskforces"
    label = "taskforces"
    verbose_name = "工作专班"
