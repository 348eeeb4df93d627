"""The city administrator's pages for department credentials of the push API. Included as
`path("imports/credentials/", include(("aixin.ingest.credential_urls", "ingest_credentials")))`."""

from django.urls import path

from aixin.ingest import credential_views as views

app_name = "ingest_credentials"
urlpatterns = [
    path("", views.credential_list, name="credential_list"),
    path("new/", views.credential_create, name="credential_create"),
    path("<int:pk>/revoke/", views.credential_revoke, name="credential_revoke"),
]
