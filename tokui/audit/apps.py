from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tokui.audit"
    label = "audit"
