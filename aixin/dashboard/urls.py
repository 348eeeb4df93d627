from django.urls import path

from aixin.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview_page, name="overview"),
]
