from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("access/", views.access_log_view, name="access_log"),
    path("changes/", views.change_log_view, name="change_log"),
]
