from django.urls import path

from aixin.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.child_list, name="child_list"),
    path("new/", views.child_create, name="child_create"),
    path("export/", views.child_export, name="child_export"),
    path("<int:pk>/", views.child_detail, name="child_detail"),
    path("<int:pk>/edit/", views.child_edit, name="child_edit"),
    path("<int:pk>/reveal-id/", views.child_reveal_id, name="child_reveal_id"),
    path("<int:pk>/tier/", views.child_tier_override, name="child_tier_override"),
    path("<int:pk>/close/", views.child_close, name="child_close"),
    path("<int:pk>/reopen/", views.child_reopen, name="child_reopen"),
    path("<int:pk>/guardians/new/", views.guardian_create, name="guardian_create"),
    path("<int:pk>/conditions/new/", views.condition_create, name="condition_create"),
    path("<int:pk>/conditions/<int:condition_pk>/end/", views.condition_end, name="condition_end"),
]
