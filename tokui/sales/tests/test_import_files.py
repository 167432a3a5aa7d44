"""Imports from files as offices make them: encodings, XLSX, mapping, the CLI's exit codes."""

import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tokui.audit.models import ObjectChange
from tokui.customers.models import Address, Customer
from tokui.sales.imports.columns import MappingProblem, resolve_columns
from tokui.sales.imports.reading import Table, detect_encoding

JAPANESE_ROWS = [
    ["得意先コード", "得意先名", "フリガナ", "電話番号"],
    ["J-001", "山田商店", "ヤマダショウテン", "03-1111-2222"],
    ["J-002", "株式会社佐藤物産", "サトウブッサン", "06-3333-4444"],
    ["J-003", "ﾀﾅｶ酒店", "ﾀﾅｶｻｹﾃﾝ", "045-555-6666"],
]
JAPANESE_MAP = ["得意先コード=code", "得意先名=name", "フリガナ=name_reading", "電話番号=phone"]
KOREAN_ROWS = [
    ["code", "name", "name_reading", "phone"],
    ["K-001", "김민준 상점", "김민준", "02-123-4567"],
    ["K-002", "이서연 식품", "이서연", "051-987-6543"],
    ["K-003", "박지훈 약국", "", "031-222-3333"],
]


def write_csv(path, rows, encoding):
    text = "".join(",".join(row) + "\r\n" for row in rows)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def cards():
    return sorted(Customer.objects.values_list("code", "name", "name_reading", "phone", "sort_key"))


def run_import(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")],
)
def test_japanese_file_detected_in_each_encoding(tmp_path, encoding, detected):
    path = write_csv(tmp_path / "j.csv", JAPANESE_ROWS, encoding)
    assert detect_encoding(path) == detected
    assert Table(path).headers == JAPANESE_ROWS[0]


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8", "utf-8"), ("cp949", "cp949")])
def test_korean_file_detected(tmp_path, encoding, detected):
    path = write_csv(tmp_path / "k.csv", KOREAN_ROWS, encoding)
    assert detect_encoding(path) == detected
    assert next(row for _n, row in Table(path).rows())[1] == "김민준 상점"


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "cp932", "xlsx"])
def test_japanese_excel_file_gives_the_same_cards_as_utf8(tmp_path, users, form):
    reference = write_csv(tmp_path / "ref.csv", JAPANESE_ROWS, "utf-8")
    maps = [arg for option in JAPANESE_MAP for arg in ("--map", option)]
    run_import("customers", str(reference), *maps)
    expected = cards()
    assert [c[0] for c in expected] == ["J-001", "J-002", "J-003"]
    assert expected[0][1:4] == ("山田商店", "ヤマダショウテン", "03-1111-2222")
    Address.objects.all().delete()
    ObjectChange._base_manager.all().delete()  # the log is append-only; tests reset it raw
    Customer.objects.all().delete()
    if form == "xlsx":
        path = write_xlsx(tmp_path / "j.xlsx", JAPANESE_ROWS)
    else:
        path = write_csv(tmp_path / "j.csv", JAPANESE_ROWS, form)
    out, _err = run_import("customers", str(path), *maps)
    assert cards() == expected
    assert "3 added" in out
    # The import is on each card's history, made by the importing administrator.
    assert (
        ObjectChange.objects.filter(action="create", object_type="customers.customer").count() == 3
    )


def test_korean_cp949_file_gives_the_same_cards_as_utf8(tmp_path, users):
    run_import("customers", str(write_csv(tmp_path / "ref.csv", KOREAN_ROWS, "utf-8")))
    expected = cards()
    ObjectChange._base_manager.all().delete()  # the log is append-only; tests reset it raw
    Customer.objects.all().delete()
    run_import("customers", str(write_csv(tmp_path / "k.csv", KOREAN_ROWS, "cp949")))
    assert cards() == expected
    assert expected[0][:2] == ("K-001", "김민준 상점")


def test_forced_encoding_wins(tmp_path, users):
    path = write_csv(tmp_path / "k.csv", KOREAN_ROWS, "cp949")
    assert Table(path, "cp949").encoding == "cp949"
    run_import("customers", str(path), "--encoding", "cp949")
    assert Customer.objects.get(code="K-002").name == "이서연 식품"


def test_unknown_and_missing_columns_are_named_before_any_row(tmp_path, users):
    path = write_csv(tmp_path / "j.csv", JAPANESE_ROWS, "cp932")
    with pytest.raises(CommandError) as error:
        run_import("customers", str(path), "--map", "得意先名=name")
    message = str(error.value)
    assert "得意先コード" in message and "フリガナ" in message and "code" in message
    assert Customer.objects.count() == 0
    with pytest.raises(MappingProblem, match="Not a column of this import: nickname"):
        resolve_columns("customers", ["code", "x"], {"x": "nickname"})
    with pytest.raises(MappingProblem, match="Required columns are missing: quantity, unit_price"):
        resolve_columns(
            "orders", ["order_no", "line_no", "customer_code", "date", "product_code"], {}
        )


def test_a_customers_import_reads_the_card_fields_once_not_per_row(tmp_path, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tokui.core.testing.factories import FieldDefinitionFactory
    from tokui.fields.models import FieldDefinition
    from tokui.fields.selectors import active_field_definitions

    FieldDefinitionFactory(key="route", field_type="text", label="Route")
    rows = [["code", "name", "route"]] + [[f"R-{n:03d}", f"店{n}", f"R{n % 3}"] for n in range(30)]
    path = write_csv(tmp_path / "c.csv", rows, "utf-8")
    with CaptureQueriesContext(connection) as queries:
        run_import("customers", str(path), "--as", "admin")
    table = FieldDefinition._meta.db_table
    reads = [q for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    # A handful for the whole file (columns, writers, field rules), not one per row and
    # pass (two passes of 30 rows here).
    assert len(reads) <= 8
    assert Customer.objects.get(code="R-004").field_values == {"route": "R1"}
    assert [d.key for d in active_field_definitions()] == ["route"]  # read afresh after


def test_the_report_speaks_the_language_of_whoever_started_the_import(tmp_path, users):
    from django.utils import translation

    from tokui.sales.choices import ImportKind, ImportStatus
    from tokui.sales.imports import runner, services
    from tokui.users.choices import Role

    path = write_csv(
        tmp_path / "bad.csv", [["code", "name", "status"], ["J-9", "山田", "?"]], "utf-8"
    )
    admin = users[Role.ADMINISTRATOR]
    with translation.override("ja"):  # the page that started it
        job = services.job_create(
            actor=admin, kind=ImportKind.CUSTOMERS, path=path, file_name="bad.csv"
        )

    job = runner.run_job(job, admin)  # later, in the task worker, which speaks English

    assert job.status == ImportStatus.REJECTED
    assert job.message == "1 行が却下されたため、何も書き込みませんでした。"
    assert job.rejections.get().reason.startswith("選択肢にありません")


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ko_KR.eucKR"}, "ko"),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8", "LC_MESSAGES": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8", "TOKUI_LANGUAGE": "ko"}, "ko"),
        ({}, "en"),
    ],
)
def test_the_cli_speaks_the_shells_language(monkeypatch, environment, language):
    from tokui.cli import cli_language

    for name in ("TOKUI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert cli_language() == language


def test_tokui_import_reports_in_korean_on_a_korean_shell(tmp_path, users, monkeypatch, capsys):
    from tokui.cli import main

    for name in ("TOKUI_LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    path = write_csv(tmp_path / "k.csv", KOREAN_ROWS, "cp949")

    assert main(["import", "customers", str(path), "--no-progress"]) == 0

    assert "고객: 3행 읽음, 추가 3, 변경 0, 변경 없음 0, 거부 0." in capsys.readouterr().out
