"""`tokui run` fills only an empty database with demo data (the serving part is in test_cli)."""

import io

import pytest
from django.core.management import CommandError, call_command

from tokui.core.management.commands.run import Command
from tokui.customers.models import Customer
from tokui.users.models import User


@pytest.fixture
def served(monkeypatch):
    """Run everything up to starting the children, and record that they would start."""
    calls = []
    monkeypatch.setattr(Command, "_serve", lambda self, port, noreload: calls.append(port))
    return calls


def run(*args) -> str:
    out = io.StringIO()
    call_command("run", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_an_empty_database_gets_the_demo_and_the_log_ins_are_printed(served):
    output = run("--customers", "6", "--port", "8123")

    assert Customer.objects.count() == 6
    assert "The database is empty: loading 6 demo customers" in output
    assert "Tokui: open http://127.0.0.1:8123/ in your browser." in output
    assert "  admin          tokui-demo  administrator\n" in output
    assert served == [8123]


@pytest.mark.django_db
def test_the_log_ins_are_printed_in_the_operators_language(served):
    from django.utils import translation

    with translation.override("ja"):  # as `tokui run` on a Japanese shell
        output = run("--customers", "3", "--port", "8123")

    assert "データベースが空です: デモの顧客 3 件を読み込みます…" in output
    assert "Tokui: ブラウザで http://127.0.0.1:8123/ を開いてください。" in output
    assert "  manager        tokui-demo  manager  エリア JP\n" in output


def test_a_database_with_users_gets_no_demo_accounts(users, served):
    output = run()

    assert Customer.objects.count() == 0
    assert not User.objects.filter(username="am_ginza").exists()
    assert "The database already has users: no demo data loaded." in output
    assert "tokui-demo" not in output
    assert served == [8000]


@pytest.mark.django_db
def test_no_demo_leaves_an_empty_database_empty(served):
    output = run("--no-demo")

    assert Customer.objects.count() == 0
    assert User.objects.count() == 0
    assert "No demo users in this database; add one with `tokui user add" in output


@pytest.mark.django_db
def test_the_demo_is_loaded_once(served):
    run("--customers", "4")

    output = run("--customers", "4")

    assert Customer.objects.count() == 4
    assert "loading" not in output
    assert "am_ginza" in output


@pytest.mark.django_db
def test_a_port_out_of_range_is_refused(served):
    with pytest.raises(CommandError, match="--port must be between 1 and 65535, not 70000"):
        run("--port", "70000")
    assert served == []
