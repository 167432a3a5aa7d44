from django.urls import path

from . import views

app_name = "fields"
urlpatterns = [
    path("", views.definition_list, name="list"),
    path("new/", views.definition_create, name="create"),
    path("presets/", views.preset_list, name="presets"),
    path("rules/", views.category_rules_view, name="rules"),
    path("<str:key>/edit/", views.definition_edit, name="edit"),
    path("<str:key>/retire/", views.definition_retire, name="retire"),
]
