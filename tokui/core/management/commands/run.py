"""``tokui run``: the one-command demo — migrate, load demo data, serve, and work tasks."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.customers import demo

# How long each child gets to finish after it was asked to stop, before it is killed.
STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Migrate, load demo data into an empty database, then run the web server on "
        "127.0.0.1 and the task worker until Ctrl-C."
    )
    requires_system_checks = []  # migrate and runserver run the checks themselves

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Web server port (8000).")
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Do not load demo data, even into an empty database (no users, no customers).",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=demo.DEFAULT_CUSTOMERS,
            help=f"Demo customers to create ({demo.DEFAULT_CUSTOMERS}).",
        )
        parser.add_argument(
            "--noreload",
            action="store_true",
            help="Do not restart the web server and the worker when the code changes.",
        )

    def handle(self, *args, port, no_demo, customers, noreload, **options):
        if not 0 < port < 65536:
            raise CommandError(
                _("--port must be between 1 and 65535, not %(port)s.") % {"port": port}
            )
        call_command("migrate", interactive=False, verbosity=1)
        if not no_demo and demo.database_is_empty():
            self.stdout.write(
                _("The database is empty: loading %(count)d demo customers…") % {"count": customers}
            )
            started = time.monotonic()
            result = demo.demo_load(scenario="store", customers=customers, seed=demo.DEFAULT_SEED)
            self.stdout.write(
                _("Loaded %(count)d customers in %(seconds).1f s.")
                % {"count": result.customers, "seconds": time.monotonic() - started}
            )
        elif not no_demo and not demo.demo_logins():
            self.stdout.write(_("The database already has users: no demo data loaded."))
        self._print_logins(port)
        return self._serve(port, noreload)

    def _print_logins(self, port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        logins = demo.demo_logins()
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(_("Tokui: open %(url)s in your browser.") % {"url": url})
        )
        if not logins:
            self.stdout.write(
                _(
                    "No demo users in this database; add one with `tokui user add NAME --role "
                    "administrator --password-stdin`."
                )
            )
            return
        self.stdout.write(
            _("Demo log-ins (every demo password is %(password)r):")
            % {"password": demo.DEMO_PASSWORD}
        )
        width = max(len(login.username) for login in logins)
        for login in logins:
            area = "  " + _("area %(area)s") % {"area": login.area} if login.area else ""
            self.stdout.write(
                f"  {login.username.ljust(width)}  {demo.DEMO_PASSWORD}  {login.role}{area}"
            )
        self.stdout.write(_("Press Ctrl-C to stop the web server and the task worker."))
        self.stdout.write("")
        self.stdout.flush()

    def _serve(self, port: int, noreload: bool) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
        tokui = [sys.executable, "-m", "tokui"]
        web_command = [*tokui, "runserver", f"127.0.0.1:{port}"]
        if noreload:
            web_command.append("--noreload")
        worker_command = [*tokui, "db_worker"]
        if noreload:
            worker_command.append("--no-reload")
        commands = {_("web server"): web_command, _("task worker"): worker_command}
        # Each child leads its own process group, so stopping it also stops what it
        # started (runserver's autoreloader runs the server in a grandchild).
        children = {
            name: subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
            for name, command in commands.items()
        }
        stopping = False
        crashed: tuple[str, int] | None = None

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping and crashed is None:
                for name, process in children.items():
                    if process.poll() is not None:
                        crashed = (name, process.returncode)
                        break
                else:
                    time.sleep(0.3)
        finally:
            _stop_all(children.values())
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if crashed:
            # A port in use or a broken database: say which part failed, and fail.
            name, code = crashed
            raise CommandError(
                _("The %(part)s stopped unexpectedly (exit code %(code)s).")
                % {"part": name, "code": code}
            )
        self.stdout.write(_("Stopped the web server and the task worker."))


def _stop_all(processes) -> None:
    """Ask every child to stop, wait a little, then kill what is left.

    SIGTERM, not SIGINT: a process started in the background inherits an ignored SIGINT,
    and runserver then never hears it; both runserver and db_worker stop cleanly on SIGTERM.
    """
    processes = list(processes)
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        os.killpg(process.pid, sig)
