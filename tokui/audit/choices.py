from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    # A card back from the trash, and a trashed card deleted for good (docs/trash.md).
    RESTORE = "restore", _("Restored")
    PURGE = "purge", _("Purged")


class AccessAction(models.TextChoices):
    """How someone read customer data; see docs/access-records.md for what records which."""

    VIEW = "view", _("Viewed")
    SEARCH = "search", _("Searched")
    EXPORT = "export", _("Exported")
    PRINT = "print", _("Printed")
    API_READ = "api_read", _("Read through the API")
