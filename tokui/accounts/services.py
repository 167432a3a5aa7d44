from django.db import transaction

from .models import Area


@transaction.atomic
def area_create(*, code: str, name: str, parent: Area | None = None) -> Area:
    area = Area(code=code, name=name, parent=parent)
    area.path = area.build_path()
    area.full_clean()
    area.save()
    return area
