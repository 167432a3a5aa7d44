from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tokui.accounts"
    label = "accounts"
