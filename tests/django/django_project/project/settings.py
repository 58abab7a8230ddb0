"""Settings of pgpart's Django test project.

The database comes from the environment (the test harness points it at its
throwaway server): PGPART_DJANGO_HOST (a socket directory or a host),
PGPART_DJANGO_PORT, PGPART_DJANGO_NAME, PGPART_DJANGO_USER.
"""

import os

SECRET_KEY = "pgpart-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "pgpart.django",
    "testapp",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",  # Django's own: pgpart needs no ENGINE
        "HOST": os.environ.get("PGPART_DJANGO_HOST", ""),
        "PORT": os.environ.get("PGPART_DJANGO_PORT", ""),
        "NAME": os.environ.get("PGPART_DJANGO_NAME", "pgpart_django"),
        "USER": os.environ.get("PGPART_DJANGO_USER", "pgpart_owner"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# testapp.Measurement opts in to a CompositePrimaryKey and is not in the admin.
SILENCED_SYSTEM_CHECKS = ["pgpart.W001"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
