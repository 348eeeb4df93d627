"""A URL configuration with one page and one API operation that declare no access."""

from django.http import HttpResponse
from django.urls import path
from ninja import NinjaAPI

from aixin.accounts.access import ScopedRouter
from aixin.accounts.api_auth import StaffSessionAuth
from aixin.api import scoped_api_urls
from aixin.urls import urlpatterns as real_urlpatterns


def undeclared_page(request):
    return HttpResponse("secret list of children")


router = ScopedRouter()


@router.get("/undeclared", url_name="undeclared_api")
def undeclared_api(request):
    return {"secret": "list of children"}


extra_api = NinjaAPI(urls_namespace="extra_api", auth=[StaffSessionAuth()])
extra_api.add_router("/", router)
# The same API mounted raw, without the access marks: the middleware refuses all of it.
raw_api = NinjaAPI(urls_namespace="raw_api", auth=[StaffSessionAuth()])
raw_router = ScopedRouter()


@raw_router.get("/anything", url_name="raw_anything")
def raw_anything(request):
    return {"secret": "list of children"}


raw_api.add_router("/", raw_router)

urlpatterns = [
    *real_urlpatterns,
    path("undeclared/", undeclared_page, name="undeclared_page"),
    path("extra-api/", scoped_api_urls(extra_api)),
    path("raw-api/", raw_api.urls),
]
