"""The effective Streamlit configuration (SECURITY.md 14, STACK-NOTES.md).

The server applies its hardening itself (`server.HARDENING`), so that it holds from any working
directory and against a config file or `STREAMLIT_*` variable that would loosen it. The test
starts the real server (`streamlit run /abs/path/server.py`) from a temporary directory holding
such a config file, with such variables, and reads the options inside the running server process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

EXPECTED = {
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.maxUploadSize": 5,
    "server.headless": True,
    "server.address": "127.0.0.1",
    "server.fileWatcherType": "none",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "viewer",
    "runner.magicEnabled": False,
    "browser.gatherUsageStats": False,
}

# Runs `streamlit run SERVER` in this process and, once the health check answers, writes the
# options the running server holds to OUT.
PROBE = """
import json, sys, threading, time, urllib.request
from pathlib import Path
from streamlit import config
from streamlit.web import cli

server, port, out, names = sys.argv[1], sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4])

def dump():
    while True:
        try:
            url = f"http://127.0.0.1:{port}/_stcore/health"
            if urllib.request.urlopen(url, timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    out.write_text(json.dumps({name: config.get_option(name) for name in names}))

threading.Thread(target=dump, daemon=True).start()
sys.argv = ["streamlit", "run", server, "--server.port", port]
cli.main()
"""

LOOSE_CONFIG = """
[server]
maxUploadSize = 200
enableXsrfProtection = false
address = "0.0.0.0"
fileWatcherType = "auto"
[client]
showErrorDetails = "full"
toolbarMode = "developer"
[runner]
magicEnabled = true
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hardening_holds_from_another_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".streamlit").mkdir(parents=True)
    (elsewhere / ".streamlit" / "config.toml").write_text(LOOSE_CONFIG)
    out = tmp_path / "options.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSTRUMENT_", "STREAMLIT_"))}
    env |= {
        "INSTRUMENT_DB": str(tmp_path / "instrument.db"),
        "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "500",
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true",
    }
    port = _free_port()
    names = json.dumps(list(EXPECTED))
    process = subprocess.Popen(
        [sys.executable, "-c", PROBE, str(REPO / "server.py"), str(port), str(out), names],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while not out.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert out.exists(), process.stderr.read().decode() if process.poll() is not None else ""
        assert json.loads(out.read_text()) == EXPECTED
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_config_file_says_the_same() -> None:
    import tomllib

    from server import HARDENING

    written = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    for name, value in HARDENING.items():
        section, option = name.split(".")
        assert written[section][option] == value, name
    assert set(EXPECTED) <= set(HARDENING)


def test_streamlit_is_recent_enough() -> None:
    import streamlit

    major, minor = (int(part) for part in streamlit.__version__.split(".")[:2])
    assert (major, minor) >= (1, 54)
