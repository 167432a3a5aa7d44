from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "tokui.customers"
    label = "customers"
