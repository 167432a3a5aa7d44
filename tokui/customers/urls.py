from django.urls import path

from . import views, views_handover, views_merge, views_privacy, views_trash

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create, name="create"),
    path("duplicates/", views_merge.duplicates_view, name="duplicates"),
    path("handover/", views_handover.handover_view, name="handover"),
    # The trash: fixed routes, so before "<code>/" would take "trash" for a card's code.
    path("trash/", views_trash.trash_view, name="trash"),
    path("trash/purge/", views_trash.trash_purge, name="trash_purge"),
    path("trash/<str:code>/restore/", views_trash.trash_restore, name="trash_restore"),
    path(
        "duplicates/merge/<str:keep_code>/<str:merge_code>/",
        views_merge.merge_view,
        name="merge",
    ),
    path("<str:code>/", views.customer_detail, name="detail"),
    path("<str:code>/edit/", views.customer_edit, name="edit"),
    path("<str:code>/history/", views.customer_history, name="history"),
    path("<str:code>/privacy/", views_privacy.privacy_export_page, name="privacy_export"),
    path("<str:code>/privacy.json", views_privacy.privacy_export_json, name="privacy_export_json"),
    path(
        "<str:code>/privacy/people/<int:pk>/anonymise/",
        views_privacy.person_anonymise,
        name="person_anonymise",
    ),
    path("<str:code>/delete/", views.customer_delete, name="delete"),
    path("<str:code>/consent/", views.consent_edit, name="consent"),
    path("<str:code>/people/new/", views.person_create, name="person_create"),
    path("<str:code>/people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<str:code>/people/<int:pk>/delete/", views.person_delete, name="person_delete"),
    path("<str:code>/addresses/new/", views.address_create, name="address_create"),
    path("<str:code>/addresses/<int:pk>/edit/", views.address_edit, name="address_edit"),
    path("<str:code>/addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
]
