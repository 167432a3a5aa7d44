"""Local development and the `make run` demo: debug on, a throwaway key."""

import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
from .base import SECRET_KEY

SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-use-in-production"

# Mail (e.g. the daily unusual-access alert) is printed, not sent, in development.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
