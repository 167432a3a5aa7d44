"""Import pages: the permission matrix, and upload → map → preview → import → report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tokui.customers.models import Customer
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import services
from tokui.sales.models import ColumnMapping, ImportJob
from tokui.users.choices import Role

JAPANESE_CSV = (
    "得意先コード,得意先名,フリガナ\nJ-1,山田商店,ヤマダショウテン\nJ-2,佐藤酒店,サトウサケテン\n"
)


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "UPLOAD_DIR", tmp_path)
    return tmp_path


def make_job(user, kind, tmp_path, text="code,name\nX-1,名\n"):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("cp932"))
    return ImportJob.objects.create(
        kind=kind, file_name="f.csv", file_path=str(path), created_by=user
    )


# role → may import customers/people, may import products/orders/payments
ROLES = {
    Role.ADMINISTRATOR: (True, True),
    Role.MANAGER: (True, True),
    Role.ACCOUNT_MANAGER: (True, False),
    Role.SERVICE_AGENT: (False, False),
    Role.ANALYST: (False, False),
    Role.AUDITOR: (False, False),
}


@pytest.mark.parametrize("name", ["start"])
def test_anonymous_goes_to_login(client, db, name):
    response = client.get(reverse(f"imports:{name}"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", ["detail", "map", "rejections_csv"])
def test_anonymous_goes_to_login_for_a_job(client, users, tmp_path, name):
    job = make_job(users[Role.ADMINISTRATOR], ImportKind.CUSTOMERS, tmp_path)
    response = client.get(reverse(f"imports:{name}", args=[job.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", list(ROLES))
def test_start_page_by_role(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("imports:start"))
    cards, books = ROLES[role]
    if not cards and not books:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    kinds = [value for value, _label in response.context["form"].fields["kind"].choices]
    expected = (["customers", "people"] if cards else []) + (
        ["products", "orders", "payments"] if books else []
    )
    assert kinds == expected


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("kind", [ImportKind.CUSTOMERS, ImportKind.ORDERS])
@pytest.mark.parametrize("name", ["detail", "map", "rejections_csv"])
def test_job_pages_by_role(client, users, tmp_path, role, kind, name):
    user = users[role]
    job = make_job(user, kind, tmp_path)
    client.force_login(user)
    response = client.get(reverse(f"imports:{name}", args=[job.pk]))
    allowed = ROLES[role][0 if kind == ImportKind.CUSTOMERS else 1]
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("name", ["detail", "map", "rejections_csv"])
def test_another_users_import_is_not_found(client, users, tmp_path, name):
    job = make_job(users[Role.ADMINISTRATOR], ImportKind.CUSTOMERS, tmp_path)
    client.force_login(users[Role.MANAGER])
    assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    response = client.post(reverse("imports:cancel", args=[job.pk]))
    assert response.status_code == 404
    assert ImportJob.objects.get(pk=job.pk).cancel_requested is False


def test_cancel_by_owner_and_refused_to_wrong_role(client, users, tmp_path):
    job = make_job(users[Role.ACCOUNT_MANAGER], ImportKind.CUSTOMERS, tmp_path)
    client.force_login(users[Role.ACCOUNT_MANAGER])
    response = client.post(reverse("imports:cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.cancel_requested, job.status) == (True, ImportStatus.CANCELLED)
    orders_job = make_job(users[Role.ACCOUNT_MANAGER], ImportKind.ORDERS, tmp_path)
    assert client.post(reverse("imports:cancel", args=[orders_job.pk])).status_code == 403


def test_upload_map_preview_import_and_report(client, users, upload_dir):
    client.force_login(users[Role.ADMINISTRATOR])
    upload = SimpleUploadedFile("得意先.csv", JAPANESE_CSV.encode("cp932"))
    response = client.post(reverse("imports:start"), {"kind": "customers", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:map", args=[job.pk]
    )
    page = client.get(response["Location"])
    assert page.context["encoding"] == "cp932"
    assert [h["name"] for h in page.context["headers"]] == ["得意先コード", "得意先名", "フリガナ"]
    form = {"column_0": "code", "column_1": "name", "column_2": "name_reading"}
    preview = client.post(response["Location"], {**form, "action": "preview"})
    assert [row["values"] for row in preview.context["rows"]] == [
        ["J-1", "山田商店", "ヤマダショウテン"],
        ["J-2", "佐藤酒店", "サトウサケテン"],
    ]
    assert [row["problems"] for row in preview.context["rows"]] == [[], []]
    assert Customer.objects.count() == 0  # the preview writes nothing
    started = client.post(
        response["Location"], {**form, "action": "start", "save_as": "販売管理ソフト"}
    )
    assert started["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created_rows) == (ImportStatus.DONE, 2)
    assert sorted(Customer.objects.values_list("code", "name")) == [
        ("J-1", "山田商店"),
        ("J-2", "佐藤酒店"),
    ]
    saved = ColumnMapping.objects.get(name="販売管理ソフト")
    assert saved.mapping == {"得意先コード": "code", "得意先名": "name", "フリガナ": "name_reading"}
    detail = client.get(started["Location"])
    assert "hx-trigger" not in detail.content.decode()
    # A second upload is prefilled from the saved mapping.
    upload = SimpleUploadedFile("again.csv", JAPANESE_CSV.encode("cp932"))
    client.post(reverse("imports:start"), {"kind": "customers", "file": upload})
    second = ImportJob.objects.order_by("-pk").first()
    page = client.get(reverse("imports:map", args=[second.pk]), {"mapping": saved.pk})
    assert [h["column"] for h in page.context["headers"]] == ["code", "name", "name_reading"]


def test_missing_required_column_is_named_and_nothing_starts(client, users, upload_dir):
    client.force_login(users[Role.ADMINISTRATOR])
    upload = SimpleUploadedFile("f.csv", JAPANESE_CSV.encode("cp932"))
    client.post(reverse("imports:start"), {"kind": "customers", "file": upload})
    job = ImportJob.objects.get()
    response = client.post(
        reverse("imports:map", args=[job.pk]), {"column_1": "name", "action": "start"}
    )
    assert response.status_code == 200
    assert response.context["problem"] == "Required columns are missing: code."
    job.refresh_from_db()
    assert job.status == ImportStatus.PENDING


def test_rejected_rows_report_as_csv_and_progress_partial(client, users, tmp_path):
    admin = users[Role.ADMINISTRATOR]
    job = make_job(admin, ImportKind.CUSTOMERS, tmp_path, "code,name\nX-1,=1+2\nX-2,<b>名</b>\n")
    services.job_start(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    client.force_login(admin)
    response = client.get(reverse("imports:rejections_csv", args=[job.pk]))
    assert response.content.decode("utf-8-sig").splitlines() == [
        "row,column,value,reason",
        "2,name,'=1+2,Looks like a spreadsheet formula.",
        "3,name,<b>名</b>,Names cannot contain the characters < or >.",
    ]
    partial = client.get(reverse("imports:detail", args=[job.pk]), headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.strip().startswith('<div id="import-progress"') and "<html" not in body
    assert "&lt;b&gt;名&lt;/b&gt;" in body
