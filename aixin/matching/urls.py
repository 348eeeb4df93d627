from django.urls import path

from aixin.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("<int:pk>/accept-all/", views.run_accept_all, name="run_accept_all"),
    path("<int:pk>/confirm/", views.run_confirm, name="run_confirm"),
    path("proposals/<int:pk>/decide/", views.proposal_decide, name="proposal_decide"),
    path("children/<int:child_pk>/exclusions/", views.exclusion_add, name="exclusion_add"),
    path("exclusions/<int:pk>/remove/", views.exclusion_remove, name="exclusion_remove"),
]
