"""Areas: the sales territories customers belong to. They form a tree."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tokui.core.models import BaseModel
from tokui.core.validators import validate_code


class Area(BaseModel):
    """A sales area. ``path`` holds the codes from the root down, so a subtree is a prefix."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(max_length=500, db_index=True, editable=False)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def build_path(self) -> str:
        prefix = self.parent.path if self.parent_id else "/"
        return f"{prefix}{self.code}/"
