"""Production settings: they pass Django's deployment checks and refuse a missing secret key."""

import os
import secrets
import subprocess
import sys

import pytest

MESSAGE = "SECRET_KEY must be set to a random value of at least 50 characters in production."


def tokui(*args, tmp_path, **env):
    # The test run's own settings (a test key, async safety off for Playwright) stay out.
    ignored = ("SECRET_KEY", "DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in ignored}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.prod", TOKUI_DATA_DIR=str(tmp_path))
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "tokui", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_without_a_single_warning(tmp_path):
    result = tokui(
        "check", "--deploy", "--fail-level", "WARNING",
        tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize(
    "key",
    ["", "too-short", "dev-" + "x" * 60, "django-insecure-" + secrets.token_urlsafe(64)],
    ids=["missing", "short", "dev key", "django-insecure"],
)
def test_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    env = {"SECRET_KEY": key} if key else {}

    result = tokui("check", tmp_path=tmp_path, **env)

    assert result.returncode != 0
    assert result.stderr.strip() == f"tokui: configuration error: {MESSAGE}"
    assert "Traceback" not in result.stderr


def test_debug_stays_off_whatever_the_environment_says(tmp_path):
    result = tokui(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)",
        tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64), DEBUG="true",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
