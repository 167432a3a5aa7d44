"""Import pages: upload, map columns and preview, confirm, follow progress, read the report.

Anonymous → log-in page; a user who may import nothing, or not this kind → 403; another
user's import → 404 (administrators see every import).
"""

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from .choices import ImportKind, ImportStatus
from .exports import neutralise
from .imports import services
from .imports.columns import MappingProblem, allowed_columns, suggest_mapping
from .imports.reading import FileProblem, Table
from .imports.runner import preview

RUNNING = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
REJECTIONS_SHOWN = 100


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Data"))
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        help_text=gettext_lazy(
            "CSV in UTF-8, Shift_JIS (CP932) or EUC-KR (CP949); the first row names the columns."
        ),
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, ImportKind(k).label) for k in kinds]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if not uploaded.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise ValidationError(_("Upload a .csv or .xlsx file."))
        return uploaded


def _job_or_404(request, pk):
    job = services.job_get(user=request.user, pk=pk)
    if job is None:
        raise Http404
    services.require_import(request.user, job.kind)
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    kinds = services.importable_kinds(request.user)
    if not kinds:
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        uploaded = form.cleaned_data["file"]
        path = services.store_upload(uploaded)
        try:
            Table(path)
        except FileProblem as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", _("This file cannot be read: %(problem)s") % {"problem": exc})
        else:
            job = services.job_create(
                actor=request.user, kind=kind, path=path, file_name=uploaded.name
            )
            return redirect("imports:map", pk=job.pk)
    jobs = services.job_list(user=request.user)[:20]
    return render(request, "sales/imports/start.html", {"form": form, "jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def import_map(request, pk):
    job = _job_or_404(request, pk)
    if job.status != ImportStatus.PENDING or job.total_rows:
        return redirect("imports:detail", pk=job.pk)
    table = Table(job.file_path, job.encoding)
    saved_mappings = list(services.mappings_for(job.kind))
    chosen = None
    if request.GET.get("mapping"):
        chosen = next((m for m in saved_mappings if str(m.pk) == request.GET["mapping"]), None)
    if request.method == "POST":
        mapping = {
            header: request.POST.get(f"column_{index}", "")
            for index, header in enumerate(table.headers)
        }
    else:
        suggestion = suggest_mapping(job.kind, table.headers, chosen.mapping if chosen else None)
        mapping = {header: suggestion.get(header, "") for header in table.headers}
    problem = None
    columns, rows = [], []
    try:
        columns, rows = preview(job, request.user, mapping)
    except (MappingProblem, FileProblem) as exc:
        problem = str(exc)
    if request.method == "POST" and request.POST.get("action") == "start" and not problem:
        name = request.POST.get("save_as", "").strip()
        if name:
            try:
                services.mapping_save(actor=request.user, kind=job.kind, name=name, mapping=mapping)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
        if not problem:
            job.mapping = mapping
            job.skip_invalid = bool(request.POST.get("skip_invalid"))
            job.save(update_fields=["mapping", "skip_invalid", "updated_at"])
            services.job_start(job)
            return redirect("imports:detail", pk=job.pk)
    context = {
        "job": job,
        "headers": [
            {"index": i, "name": h, "column": mapping.get(h, "")}
            for i, h in enumerate(table.headers)
        ],
        "choices": allowed_columns(job.kind),
        "saved_mappings": saved_mappings,
        "chosen": chosen,
        "problem": problem,
        "columns": columns,
        "rows": rows,
        "encoding": table.encoding or "XLSX",
    }
    return render(request, "sales/imports/map.html", context)


@login_required
@require_http_methods(["GET"])
def import_detail(request, pk):
    job = _job_or_404(request, pk)
    context = {
        "job": job,
        "running": job.status in RUNNING,
        "percent": int(100 * job.processed_rows / job.total_rows) if job.total_rows else 0,
        "rejections": job.rejections.all()[:REJECTIONS_SHOWN],
        "more_rejections": job.rejected_rows > REJECTIONS_SHOWN,
    }
    template = "sales/imports/detail.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, context)


@login_required
@require_POST
def import_cancel(request, pk):
    job = _job_or_404(request, pk)
    services.job_cancel(actor=request.user, job=job)
    messages.info(request, _("Cancelling: nothing of this import will be written."))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_http_methods(["GET"])
def import_rejections_csv(request, pk):
    job = _job_or_404(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    # A BOM, so Excel opens the Japanese and Korean text as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("row"), _("column"), _("value"), _("reason")])
    for rejection in job.rejections.iterator():
        writer.writerow(
            [rejection.row_number, rejection.column, neutralise(rejection.value), rejection.reason]
        )
    return response
