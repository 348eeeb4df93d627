from django.urls import path

from aixin.ingest import views

app_name = "ingest"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("template/", views.template_download, name="template"),
    path("suspects/", views.suspect_list, name="suspect_list"),
    path("suspects/<int:pk>/decide/", views.suspect_decide, name="suspect_decide"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("<int:pk>/rejections/", views.batch_rejections, name="batch_rejections"),
]
