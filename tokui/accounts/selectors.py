from .models import Area


def area_list():
    return Area.objects.all()


def area_get_by_code(code: str) -> Area | None:
    return Area.objects.filter(code=code).first()
