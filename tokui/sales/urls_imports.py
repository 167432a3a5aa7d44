from django.urls import path

from . import views_imports as views

app_name = "imports"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/map/", views.import_map, name="map"),
    path("<int:pk>/cancel/", views.import_cancel, name="cancel"),
    path("<int:pk>/rejections.csv", views.import_rejections_csv, name="rejections_csv"),
]
