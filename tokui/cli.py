"""The ``tokui`` command: every Django management command, plus Tokui's own (run, demo, …)."""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.utils import translation

    args = sys.argv[1:] if argv is None else argv
    try:
        django.setup()
        translation.activate(cli_language())
        execute_from_command_line(["tokui", *args])
    except ImproperlyConfigured as exc:
        # A missing SECRET_KEY or a bad DATABASE_URL is the operator's to fix: say what,
        # without a traceback that buries the message.
        print(f"tokui: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def cli_language() -> str:
    """The language the commands speak: ``TOKUI_LANGUAGE``, else the locale the shell asks
    for (the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set, as gettext
    reads them: ``ja_JP.UTF-8`` is Japanese), when Tokui speaks it; else LANGUAGE_CODE."""
    from django.conf import settings
    from django.utils import translation

    for name in ("TOKUI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if not value:
            continue
        locale = value.split(".")[0].split("@")[0]
        try:
            return translation.get_supported_language_variant(translation.to_language(locale))
        except LookupError:  # C, POSIX, or a language Tokui does not speak
            break
    return settings.LANGUAGE_CODE
