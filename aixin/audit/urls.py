from django.urls import path

from aixin.audit import report_views, views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("chain/", views.chain_status, name="chain_status"),
    path("access-report/", report_views.access_report_view, name="access_report"),
]
