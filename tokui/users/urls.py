from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("two-factor/", views.otp_setup, name="otp_setup"),
    path("two-factor/verify/", views.otp_verify, name="otp_verify"),
]
