from django.urls import path

from aixin.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("records.xlsx", views.records_export_view, name="records_export"),
]
