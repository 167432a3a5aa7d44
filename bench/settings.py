"""Settings for benchmark runs: the real settings, plus the bare view's urlconf.

``DATABASE_URL`` is set by ``bench/run.py`` to the benchmark's own database before
these settings load. Everything that shapes a request (middleware, sessions, templates,
connection reuse) stays as in production so the figures mean something.
"""

import warnings

from config.settings.base import *  # noqa: F403

SECRET_KEY = "bench-only-key"  # noqa: S105
DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver"]
# The benchmark logs in with force_login; passwords are never checked.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic before a benchmark: plain storage resolves {% static %} without a manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# WhiteNoise warns that STATIC_ROOT was never collected; the benchmark serves no static files.
warnings.filterwarnings("ignore", message="No directory at")
