from django.urls import path

from aixin.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("", views.volunteer_list_view, name="volunteer_list"),
    path("new/", views.volunteer_create_view, name="volunteer_create"),
    path("<int:pk>/", views.volunteer_detail_view, name="volunteer_detail"),
    path("<int:pk>/edit/", views.volunteer_edit_view, name="volunteer_edit"),
    path("<int:pk>/transition/", views.volunteer_transition_view, name="volunteer_transition"),
    path("<int:pk>/login/", views.volunteer_login_create_view, name="volunteer_login_create"),
]
