"""Render deploy/nginx.conf into a complete nginx configuration on loopback, in a folder.

    .venv/bin/python deploy/loopback.py FOLDER --port 8080 --app-port 8000 --live-port 8001 \
        --minutes-dir instance/minutes
    nginx -p FOLDER -c FOLDER/nginx.conf -e FOLDER/error.log

The benchmark (bench/downloads.py) and the tests of the configuration
(tests/protokol/test_deploy.py, tests/minutes/test_frozen_nginx.py) use it: the server
block is deploy/nginx.conf with its addresses and folders replaced, so what they run is
what production runs. The main configuration around it keeps the pid file, logs, and
temporary files in FOLDER and runs in the foreground (`daemon off`). With
`--static-port`, a second server sends `--static-file` as `/static-copy.pdf` with the
headers of a download (fixed values): nginx serving the same file statically, the
benchmark's reference (and as `/static-copy-cached.pdf` with `open_file_cache`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf")
ROOT = Path(__file__).resolve().parents[1]

#: The production values in deploy/nginx.conf that the loopback configuration replaces
#: (each exactly once, but MINUTES_DIR: every occurrence).
LISTEN = "listen 80;"
APP_SERVER = "server 127.0.0.1:8000;"
LIVE_SERVER = "server 127.0.0.1:8001;"
CACHE_DIR = "proxy_cache_path /var/cache/nginx/protokol "
MINUTES_DIR = " /var/lib/protokol/minutes/"
STATIC_DIR = "alias /srv/protokol/protokol/static/;"


def render_server(
    *,
    port: int,
    app_port: int,
    live_port: int,
    minutes_dir: Path,
    cache_dir: Path | None = None,
) -> str:
    """deploy/nginx.conf with loopback addresses and the given folders (the access check
    cache in `cache_dir`, by default `nginx-cache` beside `minutes_dir`)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    cache_dir = Path(cache_dir or Path(minutes_dir).parent / "nginx-cache").resolve()
    replacements = {
        LISTEN: f"listen 127.0.0.1:{port};",
        APP_SERVER: f"server 127.0.0.1:{app_port};",
        LIVE_SERVER: f"server 127.0.0.1:{live_port};",
        CACHE_DIR: f"proxy_cache_path {cache_dir} ",
        STATIC_DIR: f"alias {ROOT / 'protokol' / 'static'}/;",
    }
    for old, new in replacements.items():
        if text.count(old) != 1:
            raise ValueError(f"deploy/nginx.conf must contain {old!r} exactly once")
        text = text.replace(old, new)
    if MINUTES_DIR not in text:
        raise ValueError(f"deploy/nginx.conf must contain {MINUTES_DIR.strip()!r}")
    return text.replace(MINUTES_DIR, f" {Path(minutes_dir).resolve()}/")


def static_reference(port: int, static_file: Path) -> str:
    """A server sending `static_file` as /static-copy.pdf with a download's headers, fixed
    (those of deploy/nginx.conf's frozen PDFs): the benchmark's reference."""
    path = Path(static_file).resolve()
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "0" * 64
    fixed = "\n".join(f"            {line}" for line in fixed_download_headers())
    location = f"""
            alias {path};
            types {{ }}
            default_type application/pdf;
            etag off;
            add_header ETag '"{sha256}"' always;
            add_header Cache-Control "public, no-cache" always;
            add_header Content-Disposition 'attachment; filename="static-copy.pdf"' always;
            add_header X-Content-SHA256 {sha256} always;
{fixed}"""
    return f"""
    # The reference: the same file, served statically with a download's headers; as
    # /static-copy-cached.pdf also with open_file_cache (as the frozen PDFs' location).
    server {{
        listen 127.0.0.1:{port};
        location = /static-copy.pdf {{{location}
        }}
        location = /static-copy-cached.pdf {{{location}
            open_file_cache max=1000 inactive=60s;
        }}
    }}
"""


def fixed_download_headers() -> list[str]:
    """The `add_header` lines with fixed values of deploy/nginx.conf's frozen-PDF location
    (its security headers and Vary)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    location = text[text.index(PDF_LOCATION) :]
    location = location[: location.index("\n    }\n")]
    return [
        line.strip()
        for line in location.splitlines()
        if line.strip().startswith("add_header ") and "$" not in line
    ]


#: The start of the location in deploy/nginx.conf that sends the frozen PDFs.
PDF_LOCATION = "location ~ ^/meetings/\\d+/(minutes|"


def write_config(
    folder: Path,
    *,
    port: int,
    app_port: int,
    live_port: int,
    minutes_dir: Path,
    static_port: int | None = None,
    static_file: Path | None = None,
    workers: int | str = "auto",
) -> Path:
    """Write FOLDER/nginx.conf (and FOLDER/protokol.conf, the rendered server; the
    access check cache in FOLDER/cache); its path."""
    folder = Path(folder).resolve()
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    (folder / "protokol.conf").write_text(
        render_server(
            port=port,
            app_port=app_port,
            live_port=live_port,
            minutes_dir=minutes_dir,
            cache_dir=folder / "cache",
        ),
        encoding="utf-8",
    )
    static = ""
    if static_port is not None and static_file is not None:
        static = static_reference(static_port, static_file)
    # Running as root, the workers would switch to `nobody`, who cannot read a private
    # temporary folder: keep them as the invoking user.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"""# Loopback configuration rendered by deploy/loopback.py; not for production.
{user}worker_processes {workers};
# As docs/deploy.md advises for the main configuration (Debian's nginx has PCRE JIT).
pcre_jit on;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    types {{
        text/css css;
        application/javascript js;
        application/pdf pdf;
    }}
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;

    include {folder}/protokol.conf;
{static}}}
""",
        encoding="utf-8",
    )
    return folder / "nginx.conf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--app-port", type=int, default=8000)
    parser.add_argument("--live-port", type=int, default=8001)
    parser.add_argument("--minutes-dir", type=Path, default=ROOT / "instance" / "minutes")
    parser.add_argument("--static-port", type=int)
    parser.add_argument("--static-file", type=Path)
    args = parser.parse_args()
    path = write_config(
        args.folder,
        port=args.port,
        app_port=args.app_port,
        live_port=args.live_port,
        minutes_dir=args.minutes_dir,
        static_port=args.static_port,
        static_file=args.static_file,
    )
    print(path)


if __name__ == "__main__":
    main()
