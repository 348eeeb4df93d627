from __future__ import annotations

from django.urls import include, path

from aixin.api import api_urls

urlpatterns = [
    path("", include("aixin.accounts.urls")),
    path("regions/", include("aixin.regions.urls")),
    path("children/", include("aixin.registry.urls")),
    path("volunteers/", include("aixin.volunteers.urls")),
    path("pairings/", include("aixin.pairing.urls")),
    path("care/", include("aixin.care.urls")),
    path("activities/", include("aixin.activities.urls")),
    path("dashboard/", include("aixin.dashboard.urls")),
    path("evaluation/", include("aixin.evaluation.urls")),
    path("audit/", include("aixin.audit.urls")),
    path("imports/", include("aixin.ingest.urls")),
    path("alerts/", include("aixin.alerts.urls")),
    path("matching/", include("aixin.matching.urls")),
    path("notifications/", include("aixin.notify.urls")),
    path("cases/", include("aixin.cases.urls")),
    path("taskforces/", include("aixin.taskforces.urls")),
    path("imports/credentials/", include(("aixin.ingest.credential_urls", "ingest_credentials"))),
    path("api/v1/", api_urls()),
]

handler404 = "aixin.accounts.errors.not_found"
handler403 = "aixin.accounts.errors.forbidden"
