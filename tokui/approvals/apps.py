from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "tokui.approvals"
    label = "approvals"
