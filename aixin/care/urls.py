from __future__ import annotations

from django.urls import path

from aixin.care import config_views, views

app_name = "care"
urlpatterns = [
    path("mine/", views.my_children, name="my_children"),
    path("pairings/<int:pairing_pk>/", views.checklist, name="checklist"),
    path("pairings/<int:pairing_pk>/record/", views.record_create, name="record_create"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/photo/", views.record_photo, name="record_photo"),
    path("records/<int:pk>/comment/", views.record_comment, name="record_comment"),
    path("settings/", config_views.config, name="config"),
    path("settings/rules/<int:pk>/", config_views.config_rule, name="config_rule"),
    path("settings/terms/new/", config_views.config_term_create, name="config_term_create"),
    path("settings/terms/<int:pk>/", config_views.config_term, name="config_term"),
    path("settings/terms/<int:pk>/delete/", config_views.config_term_delete, name="config_term_delete"),
    path("settings/festivals/new/", config_views.config_festival_create, name="config_festival_create"),
    path("settings/festivals/<int:pk>/", config_views.config_festival, name="config_festival"),
    path(
        "settings/festivals/<int:pk>/delete/",
        config_views.config_festival_delete,
        name="config_festival_delete",
    ),
]
