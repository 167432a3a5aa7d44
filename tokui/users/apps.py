from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "tokui.users"
    label = "users"
