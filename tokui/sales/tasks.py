"""Background work of the sales app: imports run in the task worker (django-tasks)."""

from django_tasks import task

from tokui.sales.choices import ImportStatus
from tokui.sales.models import ImportJob


@task()
def run_import(job_id: int) -> str:
    from tokui.sales.imports.runner import run_job

    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.PENDING or job.cancel_requested:
        return job.status
    return run_job(job, job.created_by).status
