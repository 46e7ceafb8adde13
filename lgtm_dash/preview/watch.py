"""`lgtm-dash preview --watch`: serve the site on 127.0.0.1, rebuild it when a definition file is saved, and
reload the open page (server-sent events). A definition that does not build replaces every page with its
error and `file:line` until it is fixed: never a stale picture.

The site is kept in memory and served from there; the pages written to disk by `preview` are never touched.
Files are polled (a few dozen stat calls every POLL_SECONDS): no platform-specific watcher needed.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from collections.abc import Sequence
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..errors import LgtmError, UsageError

HOST = "127.0.0.1"
POLL_SECONDS = 0.3
KEEPALIVE_SECONDS = 10.0
EVENTS_PATH = "/__events"
# Definition files whose change rebuilds the site.
WATCHED_DIRS = ("datasources", "dashboards", "alerts")
WATCHED_FILES = ("environments.yaml", "catalog.yaml")

RELOAD_SCRIPT = """<script>
(function () {
  var generation = "%d";
  var events = new EventSource("%s");
  events.onmessage = function (event) {
    if (event.data !== generation) { events.close(); location.reload(); }
  };
})();
</script>
"""


class State:
    """The current site (or the error that replaced it), and a generation number the pages wait on."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.error: str | None = None
        self.error_page = ""
        self.generation = 0
        self.changed = threading.Condition()

    def publish(self, files: dict[str, str] | None, error: str | None, error_page: str = "") -> None:
        with self.changed:
            if files is not None:
                self.files = files
            self.error, self.error_page = error, error_page
            self.generation += 1
            self.changed.notify_all()

    def page(self, path: str) -> tuple[str | None, int]:
        """(HTML with the reload script, generation) for a request path, None when there is no such page."""
        with self.changed:
            generation, error = self.generation, self.error
            html = self.error_page if error is not None else self.files.get(path)
        if html is None or not path.endswith(".html"):
            return None, generation
        return html.replace("</body>", RELOAD_SCRIPT % (generation, EVENTS_PATH) + "</body>", 1), generation


def snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every definition file: what a save changes."""
    found: dict[str, tuple[int, int]] = {}
    paths = [project / name for name in WATCHED_FILES]
    for folder in WATCHED_DIRS:
        if (project / folder).is_dir():
            paths += [
                p
                for p in (project / folder).rglob("*")
                if "__pycache__" not in p.parts and not p.name.startswith(".")
            ]
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


class Builder:
    """Definitions → out/ (in a scratch directory) → the site; an error becomes the error page."""

    def __init__(self, project: Path, env: str | None, uids: Sequence[str], scratch: Path):
        self.project, self.env, self.uids, self.scratch = project, env, list(uids), scratch

    def build(self) -> tuple[dict[str, str] | None, str | None]:
        from ..artifacts import read_artifacts
        from ..compile import render_project, write_atomically
        from .site import from_artifacts, render_site, select

        try:
            write_atomically(render_project(self.project, self.env), self.scratch / "out")
            site_input = select(from_artifacts(read_artifacts(self.scratch / "out")), self.uids)
            return render_site(site_input), None
        except LgtmError as err:
            return None, str(err)
        except Exception as err:  # an internal error still belongs on the page, not in a dead thread
            return None, f"internal error: {type(err).__name__}: {err}"


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "lgtm-dash-preview"

        def log_message(self, format: str, *args: object) -> None:  # quiet: the console shows rebuilds
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == EVENTS_PATH:
                self.stream_events()
                return
            rel = path.lstrip("/") or "index.html"
            if rel.endswith("/"):
                rel += "index.html"
            html, _ = state.page(rel)
            if html is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            body = html.encode("utf-8")
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def stream_events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            sent: int | None = None

            def moved_on(last: int | None) -> bool:
                return state.generation != last

            try:
                while True:
                    with state.changed:
                        state.changed.wait_for(partial(moved_on, sent), timeout=KEEPALIVE_SECONDS)
                        generation = state.generation
                    if generation != sent:
                        self.wfile.write(f"data: {generation}\n\n".encode())
                        sent = generation
                    else:
                        self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                return

    return Handler


def poll(project: Path, builder: Builder, state: State, stop: threading.Event) -> None:
    from ..ui import err_console

    seen = snapshot(project)
    while not stop.wait(POLL_SECONDS):
        current = snapshot(project)
        if current == seen:
            continue
        while not stop.wait(POLL_SECONDS):  # an editor may save in several steps: wait until it settles
            settled = snapshot(project)
            if settled == current:
                break
            current = settled
        seen = current
        files, error = builder.build()
        state.publish(files, error, render_error_page(error))
        if error:
            err_console.print(f"definition error: {error}")
        else:
            err_console.print(f"rebuilt: {sum(1 for p in files or {} if p.count('/') == 1)} dashboards")


def render_error_page(error: str | None) -> str:
    from .site import render_error

    return render_error(error) if error else ""


def watch(project: Path, env: str | None, uids: Sequence[str], port: int) -> int:
    with tempfile.TemporaryDirectory(prefix="lgtm-dash-watch-") as tmp:
        builder = Builder(project, env, uids, Path(tmp))
        state = State()
        files, error = builder.build()
        state.publish(files, error, render_error_page(error))
        try:
            server = ThreadingHTTPServer((HOST, port), make_handler(state))
        except OSError as err:
            raise UsageError(f"cannot listen on {HOST}:{port}: {err.strerror or err}") from None
        server.daemon_threads = True
        stop = threading.Event()
        poller = threading.Thread(target=poll, args=(project, builder, state, stop), daemon=True)
        poller.start()
        print(f"serving the preview on http://{HOST}:{server.server_port}/ (Ctrl-C to stop)", flush=True)
        if error:
            print(f"definition error: {error}", file=sys.stderr, flush=True)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            stop.set()
            server.server_close()
    return 0
