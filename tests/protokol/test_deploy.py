"""The production configuration in deploy/: gunicorn's settings load, and nginx accepts
deploy/nginx.conf as deploy/loopback.py renders it (the benchmark runs that rendering)."""

from __future__ import annotations

import gc
import importlib.util
import runpy
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)


def _loopback():
    spec = importlib.util.spec_from_file_location("loopback", DEPLOY / "loopback.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_settings(monkeypatch):
    monkeypatch.delenv("PROTOKOL_WORKERS", raising=False)
    monkeypatch.setenv("PROTOKOL_BIND", "127.0.0.1:9000")
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert settings["worker_class"] == "sync"
    assert settings["workers"] >= 3
    assert settings["bind"] == ["127.0.0.1:9000"]
    assert settings["preload_app"] is True
    assert settings["max_requests"] > 0 and settings["max_requests_jitter"] > 0
    assert settings["timeout"] > 0
    assert callable(settings["post_fork"])
    assert settings["max_requests"] >= 50_000  # a replacement costs ~0.15 s of CPU


def test_the_master_freezes_the_preloaded_objects_before_forking():
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_master_compiles_every_template_before_the_first_fork(app, monkeypatch):
    from minutes.styles import available_styles, load_style

    monkeypatch.setenv("PROTOKOL_WARM_UP_PAGES", "0")  # the pages: the test below

    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    server = SimpleNamespace(app=SimpleNamespace(callable=app))
    from minutes.oparl.store import FINGERPRINT

    app.jinja_env.cache.clear()
    app.extensions.pop(FINGERPRINT, None)
    style = load_style(available_styles()[0], app.config["PROTOKOL_STYLE_DIRS"])
    style.env.cache.clear()
    try:
        settings["pre_fork"](server, None)
    finally:
        gc.unfreeze()
    compiled = {name for _loader, name in app.jinja_env.cache}
    assert set(app.jinja_env.list_templates()) <= compiled
    assert "portal/meeting.html" in compiled
    assert any(name.endswith(".j2") for _loader, name in style.env.cache)
    assert app.extensions[FINGERPRINT]  # the open-data stored texts' key, read once


def test_the_loopback_rendering_replaces_every_production_address(tmp_path):
    text = _loopback().render_server(
        port=18080,
        app_port=18000,
        live_port=18001,
        minutes_dir=tmp_path / "minutes",
        cache_dir=tmp_path / "cache",
    )
    minutes = (tmp_path / "minutes").resolve()
    assert "listen 127.0.0.1:18080;" in text
    assert "server 127.0.0.1:18000;" in text and "server 127.0.0.1:18001;" in text
    assert f"proxy_cache_path {(tmp_path / 'cache').resolve()} " in text
    assert f"alias {minutes}/;" in text and f"alias {minutes}/$frozen_sha256.pdf;" in text
    assert "/var/lib/protokol" not in text and "listen 80;" not in text
    assert "/var/cache" not in text and "/srv/protokol" not in text


def test_the_reference_sends_the_fixed_headers_of_the_frozen_pdfs():
    lines = _loopback().fixed_download_headers()
    names = [line.split()[1] for line in lines]
    assert names == [
        "Vary",
        "X-Content-Type-Options",
        "Content-Security-Policy",
        "X-Frame-Options",
        "Referrer-Policy",
        "Permissions-Policy",
    ]


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
def test_nginx_accepts_the_configuration(tmp_path):
    conf = _loopback().write_config(
        tmp_path / "nginx",
        port=18080,
        app_port=18000,
        live_port=18001,
        minutes_dir=tmp_path / "minutes",
        static_port=18081,
        static_file=tmp_path / "file.pdf",
    )
    folder = conf.parent
    result = subprocess.run(
        [NGINX, "-t", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@pytest.mark.parametrize(("proxies", "expected"), [(0, "127.0.0.1 http"), (1, "203.0.113.7 https")])
def test_behind_nginx_the_client_address_comes_from_the_proxy(
    database_url, tmp_path, proxies, expected
):
    """The login throttle counts by address: behind nginx it must see the client's."""
    from flask import request

    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, TRUSTED_PROXIES=proxies)
    app.add_url_rule("/_test/address", "address", lambda: f"{request.remote_addr} {request.scheme}")
    response = app.test_client().get(
        "/_test/address",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.text == expected


@pytest.mark.parametrize("setting", ["1", "0"])
def test_the_master_gets_the_public_pages_before_the_first_fork_unless_told_not_to(
    app, db, published_demo, monkeypatch, setting
):
    monkeypatch.setenv("PROTOKOL_WARM_UP_PAGES", setting)
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    server = SimpleNamespace(app=SimpleNamespace(callable=app))
    db.session.remove()
    db.engine._compiled_cache.clear()
    try:
        settings["pre_fork"](server, None)
    finally:
        gc.unfreeze()
    compiled = len(db.engine._compiled_cache)  # what the workers inherit
    assert compiled > 10 if setting == "1" else compiled < 5
    assert db.engine.pool.checkedout() == 0
