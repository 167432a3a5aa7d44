"""The application's URLs plus the bare view the customer list is compared with."""

from django.urls import include, path

from bench.customer_list import bare_customer_list

urlpatterns = [
    path("bench/bare-customers/", bare_customer_list, name="bench_bare_customers"),
    path("", include("config.urls")),
]
