from django.urls import path

from aixin.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.region_list, name="region_list"),
    path("village-options/", views.village_options, name="village_options"),
]
