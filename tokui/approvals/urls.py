from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
