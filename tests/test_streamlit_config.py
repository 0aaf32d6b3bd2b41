"""The effective Streamlit configuration (SECURITY.md 14, STACK-NOTES.md)."""

from __future__ import annotations

import json
import subprocess
import sys
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

PROBE = """
import json, sys
from streamlit import config
config.get_config_options(force_reparse=True)
names = json.loads(sys.argv[1])
print(json.dumps({name: config.get_option(name) for name in names}))
"""


def test_effective_configuration() -> None:
    # Streamlit reads .streamlit/config.toml from the working directory: `make run` starts
    # from the repository, and so does this probe.
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(EXPECTED))],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == EXPECTED


def test_streamlit_is_recent_enough() -> None:
    import streamlit

    major, minor = (int(part) for part in streamlit.__version__.split(".")[:2])
    assert (major, minor) >= (1, 54)
