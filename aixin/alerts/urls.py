from django.urls import path

from aixin.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list_view, name="alert_list"),
    path("<int:pk>/resolve/", views.alert_resolve_view, name="alert_resolve"),
    path("<int:pk>/dismiss/", views.alert_dismiss_view, name="alert_dismiss"),
]
