"""Typed environment readers: every error names the variable it comes from."""

import pytest

from mutualis.lib.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    parse_cache_url,
    parse_email_url,
    parse_storage_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), (" oui ", True), ("off", False), ("", False)]
)
def test_it_reads_booleans(raw, expected):
    assert env_bool("DEBUG", not expected, {"DEBUG": raw}) is expected


def test_it_falls_back_to_the_default_boolean_when_unset():
    assert env_bool("DEBUG", True, {}) is True
    assert env_bool("DEBUG", False, {}) is False


def test_it_refuses_an_unreadable_boolean_naming_the_variable():
    with pytest.raises(ConfigError) as caught:
        env_bool("DEBUG", False, {"DEBUG": "maybe"})
    assert caught.value.name == "DEBUG"
    assert str(caught.value).startswith("DEBUG:")
    assert "'maybe'" in str(caught.value)


def test_it_reads_integers_and_defaults_on_blank():
    assert env_int("PAGE", 5, {"PAGE": " 42 "}) == 42
    assert env_int("PAGE", 5, {"PAGE": "  "}) == 5
    assert env_int("PAGE", 5, {}) == 5


@pytest.mark.parametrize(
    ("raw", "fragment"), [("ten", "expected an integer"), ("1.5", "expected an integer"), ("0", "at least 1")]
)
def test_it_refuses_a_bad_integer_naming_the_variable(raw, fragment):
    with pytest.raises(ConfigError) as caught:
        env_int("MUTUALIS_API_PAGE_SIZE", 50, {"MUTUALIS_API_PAGE_SIZE": raw}, minimum=1)
    assert caught.value.name == "MUTUALIS_API_PAGE_SIZE"
    assert fragment in str(caught.value)


def test_it_splits_lists_and_drops_blanks():
    assert env_list("HOSTS", ["x"], {"HOSTS": "a.fr, b.fr,,"}) == ["a.fr", "b.fr"]
    assert env_list("HOSTS", ["x"], {}) == ["x"]


def test_it_parses_an_smtp_url_with_credentials_and_default_port():
    settings = parse_email_url("EMAIL_URL", "smtp+tls://user%40ville.fr:p%40ss@mail.ville.fr")
    assert settings == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.ville.fr",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "user@ville.fr",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_it_keeps_an_explicit_smtp_port():
    settings = parse_email_url("EMAIL_URL", "smtp+ssl://127.0.0.1:2465")
    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"], settings["EMAIL_USE_TLS"]) == (2465, True, False)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console://", "django.core.mail.backends.console.EmailBackend"),
        ("memory://", "django.core.mail.backends.locmem.EmailBackend"),
        ("file:///var/mail", "django.core.mail.backends.filebased.EmailBackend"),
    ],
)
def test_it_parses_local_mail_backends(url, backend):
    assert parse_email_url("EMAIL_URL", url)["EMAIL_BACKEND"] == backend


def test_it_reads_the_folder_of_a_file_mail_backend():
    assert parse_email_url("EMAIL_URL", "file:///var/mail")["EMAIL_FILE_PATH"] == "/var/mail"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("pop3://mail.ville.fr", "unknown scheme 'pop3'"),
        ("smtp://", "needs a host"),
        ("smtp://mail.ville.fr:port", "port is not a number"),
        ("file://", "needs a folder"),
    ],
)
def test_it_refuses_a_bad_email_url_naming_the_variable(url, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_email_url("EMAIL_URL", url)
    assert caught.value.name == "EMAIL_URL"
    assert str(caught.value).startswith("EMAIL_URL:")
    assert fragment in str(caught.value)


def test_it_parses_a_storage_url():
    storage = parse_storage_url("STORAGE_URL", "s3://KEY:SE%2FCRET@minio.local:9000/documents?region=fr-par")
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"] == {
        "bucket_name": "documents",
        "endpoint_url": "https://minio.local:9000",
        "access_key": "KEY",
        "secret_key": "SE/CRET",
        "region_name": "fr-par",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }


@pytest.mark.parametrize("url", ["s3+http://k:s@minio.local/b", "s3://k:s@minio.local/b?secure=0"])
def test_it_uses_plain_http_for_insecure_storage(url):
    options = parse_storage_url("STORAGE_URL", url)["OPTIONS"]
    assert options["endpoint_url"] == "http://minio.local"
    assert options["region_name"] is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://k:s@host/bucket", "unknown scheme 'ftp'"),
        ("s3://k:s@host/", "expected s3://"),
        ("s3:///bucket", "expected s3://"),
        ("s3://k:s@host:abc/bucket", "port is not a number"),
    ],
)
def test_it_refuses_a_bad_storage_url_naming_the_variable(url, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_storage_url("STORAGE_URL", url)
    assert caught.value.name == "STORAGE_URL"
    assert str(caught.value).startswith("STORAGE_URL:")
    assert fragment in str(caught.value)


@pytest.mark.parametrize("url", ["", "  ", "locmem://"])
def test_it_keeps_a_cache_per_process_without_a_redis_url(url):
    assert parse_cache_url("CACHE_URL", url)["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/1", "rediss://:secret@cache.example.org:6380/2", "redis://cache.local"]
)
def test_it_shares_a_cache_through_redis_when_a_url_is_given(url):
    assert parse_cache_url("CACHE_URL", url) == {"BACKEND": "mutualis.core.cache.ResilientRedisCache", "LOCATION": url}


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("memcached://127.0.0.1:11211", "unknown scheme 'memcached'"),
        ("redis:///0", "needs a host"),
        ("redis://127.0.0.1:port/0", "port is not a number"),
        ("redis://127.0.0.1:6379/zero", "must be a number"),
    ],
)
def test_it_refuses_a_bad_cache_url_naming_the_variable(url, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_cache_url("CACHE_URL", url)
    assert str(caught.value).startswith("CACHE_URL:")
    assert fragment in str(caught.value)
