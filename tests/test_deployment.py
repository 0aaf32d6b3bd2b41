"""The deployment guide's reverse proxy configuration is valid Caddy, and says what it must."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CADDYFILE = REPO / "deploy" / "Caddyfile"


def test_the_caddyfile_is_valid() -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed: `make test` installs it (apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", "--validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"warn"' not in result.stderr, result.stderr
    assert '"upstreams":[{"dial":"127.0.0.1:8501"}]' in result.stdout


def test_the_caddyfile_terminates_tls_and_keeps_case_references_out_of_logs() -> None:
    text = CADDYFILE.read_text(encoding="utf-8")
    assert "reverse_proxy 127.0.0.1:8501" in text
    assert "Strict-Transport-Security" in text
    assert "admin off" in text
    assert "delete case" in text
    assert "request>headers>Cookie delete" in text


def test_the_guide_covers_proxy_keys_backups_and_rotation() -> None:
    guide = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    for needed in (
        "deploy/Caddyfile",
        "INSTRUMENT_DB_KEY",
        "INSTRUMENT_AUDIT_KEY",
        "INSTRUMENT_COOKIE_KEY",
        "instrument backup",
        "instrument audit restore",
        "instrument rotate-key audit",
        "instrument rotate-key cookie",
        "never stored together",
    ):
        assert needed in guide, needed
