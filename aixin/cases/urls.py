from __future__ import annotations

from django.urls import path

from aixin.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("inbox/", views.liaison_inbox, name="liaison_inbox"),
    path("report/", views.report_create, name="report_create"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("<int:pk>/report-entry/", views.report_entry, name="report_entry"),
    path("reports/<int:pk>/photo/", views.report_photo, name="report_photo"),
    path("referrals/<int:pk>/transition/", views.referral_transition, name="referral_transition"),
    path("events/<int:pk>/attachment/", views.event_attachment, name="event_attachment"),
]
