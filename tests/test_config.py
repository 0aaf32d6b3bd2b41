"""Settings: one model read at the entry points, the README's table, who reads the environment."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.config import DEFAULT_DB, Settings
from instrument.definitions import SHIPPED, catalogue
from instrument.errors import ConfigurationError, DocumentError
from instrument.exchange.assessments import parse_assessment
from tests.conftest import assessment_document

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "instrument"


def readme_settings() -> dict[str, str]:
    """Return the README's configuration table: variable → default column."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: config -->")[1].split("<!-- end section: config -->")[0]
    rows = re.findall(r"^\| `(INSTRUMENT_[A-Z_]+)` \| (.+?) \|", section, flags=re.M)
    return dict(rows)


def test_the_readme_table_lists_every_setting_and_nothing_else() -> None:
    aliases = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert set(readme_settings()) == aliases


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_the_readme_states_the_defaults() -> None:
    table = readme_settings()
    assert "data/instrument.db" in table["INSTRUMENT_DB"]
    assert "under the project" in table["INSTRUMENT_DB"]
    assert DEFAULT_DB == REPO / "data" / "instrument.db"
    for unset in ("INSTRUMENT_DEFINITIONS", "INSTRUMENT_DEMO"):
        assert table[unset] == "unset"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.db == DEFAULT_DB
    assert settings.audit_key_path == DEFAULT_DB.with_name("instrument.db.key")
    assert settings.cookie_key_path == DEFAULT_DB.with_name("instrument.cookie.key")
    assert settings.definitions is None
    assert settings.demo is False


def test_values_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "INSTRUMENT_DB": str(tmp_path / "x.db"),
            "INSTRUMENT_AUDIT_KEY": str(tmp_path / "keys" / "audit"),
            "INSTRUMENT_COOKIE_KEY": "",  # empty means unset
            "INSTRUMENT_DEFINITIONS": str(tmp_path),
            "INSTRUMENT_DEMO": "1",
            "PATH": "/usr/bin",
        }
    )
    assert settings.db == tmp_path / "x.db"
    assert settings.audit_key_path == tmp_path / "keys" / "audit"
    assert settings.cookie_key_path == tmp_path / "x.cookie.key"
    assert settings.definitions == tmp_path
    assert settings.demo is True


def test_the_cli_db_option_moves_the_default_keys_with_it(tmp_path: Path) -> None:
    settings = Settings.from_env({}).with_db(tmp_path / "other.db")
    assert settings.audit_key_path == tmp_path / "other.db.key"
    assert settings.cookie_key_path == tmp_path / "other.cookie.key"
    assert Settings.from_env({}).with_db(None) == Settings.from_env({})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ValueError, match="frozen"):
        settings.db = Path("elsewhere.db")  # type: ignore[misc]


def test_a_misspelt_setting_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({"INSTRUMENT_AUDITKEY": "/tmp/k"})
    assert error.value.where == "INSTRUMENT_AUDITKEY"
    assert "INSTRUMENT_AUDIT_KEY" in error.value.fix


def test_an_unreadable_value_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({"INSTRUMENT_DEMO": "perhaps"})
    assert error.value.where == "INSTRUMENT_DEMO"


def test_the_cli_reports_a_bad_setting_with_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")}
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "definitions"],
        capture_output=True,
        text=True,
        env={**env, "INSTRUMENT_DEMO": "perhaps"},
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("INSTRUMENT_DEMO: not a valid value")
    assert "Traceback" not in result.stderr


# --- nobody below the entry points reads the environment ---------------------------------------


def _reads_environment(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & {"environ", "getenv", "environb"}
        ):
            lines.append(node.lineno)
    return lines


def python_files() -> list[Path]:
    return [*sorted(PACKAGE.rglob("*.py")), REPO / "app.py", REPO / "server.py"]


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_only_config_reads_the_environment(path: Path) -> None:
    if path == PACKAGE / "config.py":
        assert _reads_environment(path)
        return
    assert not _reads_environment(path), f"{path}: read settings through config.Settings"


def test_the_environment_check_would_catch_a_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom os import getenv\nx = os.environ.get('INSTRUMENT_DB')\n")
    assert _reads_environment(bad) == [2, 3]


def test_settings_are_read_only_at_the_entry_points() -> None:
    readers = set()
    for path in python_files():
        if "Settings.from_env" in path.read_text(encoding="utf-8"):
            readers.add(str(path.relative_to(REPO)))
    assert readers == {"instrument/cli.py", "instrument/ui/settings.py", "server.py"} | {
        "instrument/config.py"
    }


# --- INSTRUMENT_DEFINITIONS: a folder of extra definitions --------------------------------------


def adapted(folder: Path, version: str = "9.0.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (SHIPPED / "ifi-1.0.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "1.0.0"', f'version: "{version}"', 1)
    path = folder / f"ifi-{version}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _assessment(version: str) -> bytes:
    document = assessment_document()
    document["instrument"]["version"] = version
    return json.dumps(document).encode()


def test_an_extra_folder_adds_its_definitions(tmp_path: Path) -> None:
    adapted(tmp_path / "defs")
    definitions = catalogue(tmp_path / "defs")
    assert ("ifi", "9.0.0") in definitions.definitions
    assert ("ifi", "1.0.0") in definitions.definitions
    assert definitions.newest().version == "9.0.0"
    assert parse_assessment(_assessment("9.0.0"), definitions).instrument.version == "9.0.0"
    with pytest.raises(DocumentError, match=r"9\.0\.0 is not installed"):
        parse_assessment(_assessment("9.0.0"), catalogue())  # the shipped definitions alone


def test_an_extra_definition_may_not_repeat_an_installed_version(tmp_path: Path) -> None:
    adapted(tmp_path / "defs", version="1.0.0")
    with pytest.raises(DocumentError) as error:
        catalogue(tmp_path / "defs")
    assert "installed already" in str(error.value)


def test_a_missing_extra_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        catalogue(tmp_path / "nowhere")


def test_an_invalid_extra_definition_is_refused(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "broken.yaml").write_text("id: ifi\nversion: '2.0.0'\n")
    with pytest.raises(DocumentError):
        catalogue(tmp_path / "defs")


def test_the_cli_uses_the_extra_folder(tmp_path: Path) -> None:
    adapted(tmp_path / "defs")
    document = tmp_path / "a.json"
    document.write_bytes(_assessment("9.0.0"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "instrument", *args],
            capture_output=True,
            text=True,
            env={**env, **extra},
            cwd=REPO,
            check=False,
        )

    with_folder = {"INSTRUMENT_DEFINITIONS": str(tmp_path / "defs")}
    assert run("definitions", **with_folder).stdout.split("\n")[:3] == [
        "ifi 1.0.0",
        "ifi 1.1.0",
        "ifi 9.0.0",
    ]
    assert run("definitions").stdout == "ifi 1.0.0\nifi 1.1.0\n"
    assert run("validate", "assessment", str(document), **with_folder).returncode == 0
    refused = run("validate", "assessment", str(document))
    assert refused.returncode == 2
    assert "9.0.0 is not installed" in refused.stderr
    missing = run("definitions", INSTRUMENT_DEFINITIONS=str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
