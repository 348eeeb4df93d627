from django.urls import path

from aixin.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list_view, name="activity_list"),
    path("new/", views.activity_create_view, name="activity_create"),
    path("<int:pk>/", views.activity_detail_view, name="activity_detail"),
    path("<int:pk>/participants/", views.participants_add_view, name="participants_add"),
]
