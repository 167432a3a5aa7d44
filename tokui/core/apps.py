from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tokui.core"
    label = "core"
