"""`kisi-archive serve`: the read-only web viewer of an archive (scheduler/web)."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click


from .cli_common import CommandFailed, Setting, archive_options, resolve_config

LOOPBACK_WARNING = ("warning: listening on {host}, not loopback: anyone who can reach this machine can read the "
                    "archive (the viewer is read-only; put it behind a proxy with TLS and access control)")


def serve_options(func):  # type: ignore[no-untyped-def]
    """--host, --port, --public-url: shared by `serve` and `daemon --serve`."""
    func = click.option("--public-url", type=Setting("public_url", "URL"),
                        help="Public base URL of the viewer, when behind a proxy: citations and feeds link to it "
                             "[env KISI_PUBLIC_URL].")(func)
    func = click.option("--port", type=Setting("serve_port", "PORT"),
                        help="TCP port (default 8000; 0 = any free port) [env KISI_SERVE_PORT].")(func)
    func = click.option("--host", type=Setting("serve_host", "HOST"), help="Address to listen on (default 127.0.0.1, loopback only; 0.0.0.0 = every "
                                       "interface) [env KISI_SERVE_HOST].")(func)
    return func


def start_viewer(config, *, access_log: bool = True):  # type: ignore[no-untyped-def]
    """Open the archive read-only, bind the socket and build the server (not started yet).

    Exits 1 with one sentence when the index is not ready or the port cannot be used.
    """
    from storage import Archive

    from .web.app import create_app
    from .web.server import BindError, ViewerServer, bind, is_loopback

    root = config.archive_dir
    with Archive.open(root, readonly=True) as archive:
        archive.conn  # IndexNotReady ("run kisi-archive reindex") before anything listens
    try:
        sock = bind(config.serve_host, config.serve_port)
    except BindError as exc:
        raise CommandFailed(str(exc)) from None
    if not is_loopback(config.serve_host):
        click.echo(LOOPBACK_WARNING.format(host=config.serve_host), err=True)
    app = create_app(root, public_url=config.public_url, stale_after=config.stale_after)
    return ViewerServer(app, sock, access_log=access_log)


@click.command()
@archive_options
@serve_options
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request to stderr.")
def serve(archive_dir: Path | None, config_file: Path | None, host: str | None, port: int | None,
          public_url: str | None, access_log: bool) -> None:
    """Serve a read-only web viewer of the archive, until Ctrl-C.

    Pages: documents with the filters of `list`, search, each document's versions, a
    citable page per version (/doc/DOC_ID/vN) with its provenance, a citation and the raw
    page sandboxed, diffs side by side, recent changes. Every page has a JSON twin (add
    .json, or send Accept: application/json). Also Memento (/timegate/URL,
    /timemap/link/URL), an Atom feed (/changes.atom), /healthz and /metrics. It never
    writes the archive and sees what a running crawl adds at once. Listens on 127.0.0.1
    unless told otherwise. See docs/web.md.

    \b
    Examples:
      kisi-archive serve                              # http://127.0.0.1:8000/
      kisi-archive serve --archive /var/lib/kisi-archive --port 8080
      kisi-archive serve --host 0.0.0.0 --public-url https://archive.example.org/
      curl -s localhost:8000/doc/kisi.kz-en-2368/v1.json | jq .title
    """
    config = resolve_config(config_file, archive_dir=archive_dir, serve_host=host, serve_port=port,
                            public_url=public_url)
    server = start_viewer(config, access_log=access_log)
    for name in ("uvicorn.error", "uvicorn.access"):
        log = logging.getLogger(name)
        if not log.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
            log.addHandler(handler)
        log.setLevel(logging.INFO if access_log or name == "uvicorn.error" else logging.WARNING)
        log.propagate = False
    click.echo(f"Serving {config.archive_dir.resolve()} read-only at {server.url} (Ctrl-C to stop)", err=True)
    server.run()


COMMANDS = [serve]
