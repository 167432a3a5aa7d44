"""Test settings: the base settings with fast hashing and in-memory tasks."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# Tests never run collectstatic: serve static files from the apps, as in development,
# so the browser tests get Bootstrap and WhiteNoise does not warn about a missing STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# django-axes logs every log-in at INFO; the lock-out tests make hundreds of them.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "axes": {"level": "WARNING"}}}  # noqa: F405
# The browser tests' live server needs a SQLite file rather than memory
# (tokui/core/testing/browser.py says why); `make test-browser` names one.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and os.environ.get(  # noqa: F405
    "TOKUI_TEST_SQLITE_FILE"
):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TOKUI_TEST_SQLITE_FILE"]}  # noqa: F405
