from django.urls import path

from aixin.pairing import views

app_name = "pairing"
urlpatterns = [
    path("", views.ledger_view, name="ledger"),
    path("export/", views.ledger_export_view, name="ledger_export"),
    path("status-export/", views.status_export_view, name="status_export"),
    path("unpaired/", views.unpaired_view, name="unpaired"),
    path("propose/<int:child_pk>/", views.propose_view, name="propose"),
    path("<int:pk>/", views.pairing_detail_view, name="pairing_detail"),
    path("<int:pk>/respond/", views.respond_view, name="respond"),
    path("<int:pk>/consent/", views.consent_view, name="consent"),
    path("consents/<int:pk>/evidence/", views.consent_evidence_view, name="consent_evidence"),
    path("<int:pk>/withdraw-consent/", views.consent_withdraw_view, name="consent_withdraw"),
    path("<int:pk>/end/", views.end_view, name="end"),
    path("<int:pk>/cancel/", views.cancel_view, name="cancel"),
]
