from django.urls import path

from aixin.taskforces import views

app_name = "taskforces"
urlpatterns = [
    path("missing/", views.missing_list, name="missing_list"),
    path("mine/", views.mine, name="mine"),
    path("child/<int:child_pk>/create/", views.taskforce_create, name="taskforce_create"),
    path("<int:pk>/", views.taskforce_detail, name="taskforce_detail"),
    path("<int:pk>/members/new/", views.member_add, name="member_add"),
    path("<int:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("<int:pk>/actions/new/", views.action_add, name="action_add"),
    path("<int:pk>/step-down/", views.step_down, name="step_down"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("members/<int:pk>/login/", views.member_login_create, name="member_login_create"),
    path("actions/<int:pk>/complete/", views.action_complete, name="action_complete"),
    path("actions/<int:pk>/drop/", views.action_drop, name="action_drop"),
    path("actions/<int:pk>/notes/", views.note_add, name="note_add"),
]
