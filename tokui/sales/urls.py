from django.urls import path

from . import views

app_name = "sales"

urlpatterns = [
    path("products/", views.product_list_view, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<str:code>/", views.product_detail, name="product_detail"),
    path("products/<str:code>/edit/", views.product_edit, name="product_edit"),
    path("orders/", views.order_list_view, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order_cancel"),
    path("payments/", views.payment_list_view, name="payment_list"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("export/<str:kind>/", views.export_download, name="export"),
]
