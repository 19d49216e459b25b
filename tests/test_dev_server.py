"""The development server: the Werkzeug debugger (which runs code for whoever sees it) only on loopback."""

import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.debug import DebuggedApplication
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent.parent  # the venv running the tests stands in for .venv


def _flask_run_line(*make_args: str) -> list[str]:
    """The `flask … run …` command line that `make <target>` would run (dry run, nothing executed)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", *make_args, f"VENV={VENV}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if " run " in f" {line} " and "flask" in line]
    assert len(lines) == 1, result.stdout
    return shlex.split(lines[0])


@pytest.mark.parametrize("make_args", [("run", "HOST=0.0.0.0"), ("run", "HOST=192.168.1.20"), ("run-https",)])
def test_make_runs_without_the_debugger_on_the_network(make_args):
    line = _flask_run_line(*make_args)
    assert "--debug" not in line and "--debugger" not in line
    assert "--no-debug" in line  # also overrides a FLASK_DEBUG=1 in the developer's environment


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_make_run_keeps_the_debugger_on_loopback(host):
    line = _flask_run_line("run", f"HOST={host}")
    assert "--debug" in line and line[line.index("--host") + 1] == host


def test_make_run_defaults_to_loopback_with_the_debugger():
    line = _flask_run_line("run")
    assert "--debug" in line and line[line.index("--host") + 1] == "127.0.0.1"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDWALK_", "FLASK_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        FLASK_DEBUG="1",  # as if the developer had it exported
        FIELDWALK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite'}",
        FIELDWALK_PHOTO_DIR=str(tmp_path / "photos"),
        FIELDWALK_MAIL_OUTBOX=str(tmp_path / "outbox"),
        SECRET_KEY="x" * 64,
    )
    env.pop("DATABASE_URL", None)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(server: subprocess.Popen) -> None:
    """Stop a server and the reloader's child process it may have started (its own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    server.communicate(timeout=30)


def test_flask_run_refuses_the_debugger_on_a_network_address(tmp_path):
    """Even typed by hand: `flask run --debug --host 0.0.0.0` stops before it listens."""
    command = [
        str(VENV / "bin" / "flask"),
        "--app",
        "fieldwalk",
        "run",
        "--debug",
        "--host",
        "0.0.0.0",
        "--port",
        str(_free_port()),
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _out, err = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        _stop(server)
        pytest.fail("flask run served with the debugger on 0.0.0.0")
    assert server.returncode != 0
    assert "debugger" in err.lower() and "0.0.0.0" in err


@pytest.mark.parametrize("target", ["run", "run-https"])
def test_a_500_in_lan_mode_shows_the_plain_error_page(tmp_path, target):
    """The phone/LAN command from the Makefile, served for real: a server error (here: a database without
    tables) answers with our error page, never the debugger with source code."""
    port = _free_port()
    line = _flask_run_line(target, "HOST=0.0.0.0", f"PORT={port}")
    server = subprocess.Popen(
        line,
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    scheme = "https" if target == "run-https" else "http"
    unverified = ssl._create_unverified_context()  # the throw-away adhoc certificate
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/join/abc", timeout=5, context=unverified)
                pytest.fail("a database without tables should fail")
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
    finally:
        _stop(server)
    assert status == 500
    assert "Något gick fel hos oss" in body  # our page, in Swedish
    assert "Traceback" not in body and "Werkzeug Debugger" not in body and "__debugger__" not in body


def test_the_app_refuses_requests_when_a_debugger_wraps_it_on_the_network(app):
    """The second lock: should anything else start the debugger on a network address, no page is served."""
    debugged = Client(DebuggedApplication(app, evalex=True))
    response = debugged.get("/login", environ_overrides={"SERVER_NAME": "0.0.0.0"})
    assert response.status_code == 503
    assert "debugger" in response.get_data(as_text=True).lower()
    assert (
        Client(DebuggedApplication(app, evalex=True))
        .get("/login", environ_overrides={"SERVER_NAME": "127.0.0.1"})
        .status_code
        == 200
    )
