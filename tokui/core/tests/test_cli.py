"""The ``tokui`` command: Django's commands and ours, and ``tokui run`` from start to Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tokui.cli import main
from tokui.core.management.commands.run import STOP_GRACE_SECONDS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        TOKUI_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
        TOKUI_LANGUAGE="en",  # the messages asserted below, whatever the machine's LANG
    )
    return env


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except (FileNotFoundError, ProcessLookupError):
                continue
            pending.extend(kids - found)
            found |= kids
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_every_django_command_is_a_tokui_command(capsys):
    assert main(["help", "migrate"]) == 0

    assert "--run-syncdb" in capsys.readouterr().out


def test_python_dash_m_tokui_lists_our_commands(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tokui", "help"],
        env=demo_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    commands = {line.strip() for line in result.stdout.splitlines()}
    assert {"run", "demo", "user", "token", "db_worker", "migrate"} <= commands


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_run_migrates_loads_the_demo_serves_and_stops_both_children(tmp_path, stop_signal):
    port = free_port()
    login_url = f"http://127.0.0.1:{port}/login/"
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "tokui", "run", f"--port={port}", "--noreload", "--customers=12"],
        env=demo_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(login_url, timeout=2) as page:
                    status = page.status
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.3)
        children = children_of(process.pid)
        commands = {Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[3] for pid in children}
        assert status == 200
        assert commands == {b"runserver", b"db_worker"}

        asked_to_stop = time.monotonic()
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=30)
        stopped_after = time.monotonic() - asked_to_stop
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, output
    # Both children stopped when asked, not killed when the grace period ran out.
    assert stopped_after < STOP_GRACE_SECONDS
    assert "The database is empty: loading 12 demo customers" in output
    assert "Demo log-ins (every demo password is 'tokui-demo'):" in output
    assert "  am_ginza       tokui-demo  account_manager  area TKY-GINZA" in output
    assert output.rstrip().endswith("Stopped the web server and the task worker.")
    assert not [pid for pid in children if is_running(pid)]
    with pytest.raises(OSError):
        urllib.request.urlopen(login_url, timeout=2)
