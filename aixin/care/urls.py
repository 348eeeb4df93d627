from __future__ import annotations

from django.urls import path

from aixin.care import views

app_name = "care"
urlpatterns = [
    path("mine/", views.my_children, name="my_children"),
    path("pairings/<int:pairing_pk>/", views.checklist, name="checklist"),
    path("pairings/<int:pairing_pk>/record/", views.record_create, name="record_create"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/photo/", views.record_photo, name="record_photo"),
    path("records/<int:pk>/comment/", views.record_comment, name="record_comment"),
]
