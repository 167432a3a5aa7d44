from django.apps import AppConfig


class FieldsConfig(AppConfig):
    name = "tokui.fields"
    label = "fields"
