"""Starting, cancelling and reading imports; saved column mappings. Permission checks here."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from tokui.core.validators import validate_plain_name
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.models import ColumnMapping, ImportJob
from tokui.users.choices import Role
from tokui.users.roles import CUSTOMER, has_permission

CARD_KINDS = (ImportKind.CUSTOMERS, ImportKind.PEOPLE)
UPLOAD_DIR = Path(settings.DATA_DIR) / "imports"


def may_import(user, kind: str) -> bool:
    """Cards: whoever may add and change customers. Products, orders and payments are the
    company's books: administrators and managers."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if kind in CARD_KINDS:
        return has_permission(user, CUSTOMER, "add") and has_permission(user, CUSTOMER, "change")
    return user.role in (Role.ADMINISTRATOR, Role.MANAGER)


def importable_kinds(user) -> list[str]:
    return [kind for kind in ImportKind.values if may_import(user, kind)]


def require_import(user, kind: str) -> None:
    if not may_import(user, kind):
        raise PermissionDenied(_("You may not import this data."))


def store_upload(uploaded) -> Path:
    """Keep an uploaded file under the data directory for the background task to read."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if uploaded.name.lower().endswith(".xlsx") else ".csv"
    path = UPLOAD_DIR / f"{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as file:
        for chunk in uploaded.chunks():
            file.write(chunk)
    return path


def job_create(
    *,
    actor,
    kind: str,
    path: str | Path,
    file_name: str,
    mapping: dict | None = None,
    encoding: str = "",
    skip_invalid: bool = False,
) -> ImportJob:
    require_import(actor, kind)
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        file_path=str(path),
        mapping=mapping or {},
        encoding=encoding,
        skip_invalid=skip_invalid,
        created_by=actor,
        language=translation.get_language() or "",
    )


def job_start(job: ImportJob) -> None:
    """Hand the job to the task worker (in tests: run it now)."""
    from tokui.sales.tasks import run_import

    run_import.enqueue(job.pk)


def job_cancel(*, actor, job: ImportJob) -> None:
    require_import(actor, job.kind)
    if job.created_by_id != actor.pk and actor.role != Role.ADMINISTRATOR:
        raise PermissionDenied(_("Only who started an import may cancel it."))
    if job.status in (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.IMPORTING):
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        if job.status == ImportStatus.PENDING:
            ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PENDING).update(
                status=ImportStatus.CANCELLED
            )


def mapping_save(*, actor, kind: str, name: str, mapping: dict) -> ColumnMapping:
    require_import(actor, kind)
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Give the mapping a name of at most 100 characters.")]})
    validate_plain_name(name)
    saved, _created = ColumnMapping.objects.update_or_create(
        kind=kind, name=name, defaults={"mapping": mapping, "created_by": actor}
    )
    return saved


def mapping_by_name(kind: str, name: str) -> ColumnMapping | None:
    return ColumnMapping.objects.filter(kind=kind, name=name).first()


def mappings_for(kind: str):
    return ColumnMapping.objects.filter(kind=kind)


def job_list(*, user):
    """Imports the user started (administrators: all)."""
    jobs = ImportJob.objects.all()
    if getattr(user, "role", None) != Role.ADMINISTRATOR:
        jobs = jobs.filter(created_by=user)
    return jobs


def job_get(*, user, pk: int) -> ImportJob | None:
    return job_list(user=user).filter(pk=pk).first()
