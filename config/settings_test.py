"""Test settings: the production settings with a fixed key, a fast hasher and mail in memory.

DATABASE_URL is honoured, so the same suite runs on SQLite and on PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("MUTUALIS_VAR_DIR", tempfile.mkdtemp(prefix="mutualis-test-"))
os.environ["EMAIL_URL"] = "memory://"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REQUIRE_2FA_FOR_STAFF = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Background work runs in the test itself (after commit), so mail leaves synchronously.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
