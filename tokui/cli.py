"""The ``tokui`` command: every Django management command, plus Tokui's own (run, demo, …)."""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    try:
        execute_from_command_line(["tokui", *args])
    except ImproperlyConfigured as exc:
        # A missing SECRET_KEY or a bad DATABASE_URL is the operator's to fix: say what,
        # without a traceback that buries the message.
        print(f"tokui: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0
