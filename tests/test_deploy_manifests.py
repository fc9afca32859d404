"""deploy/: the Kubernetes/OpenShift manifests are valid objects and fit together.

The schema check uses the Kubernetes API models of the `kubernetes` client (generated from
the API's OpenAPI spec): every key must be a field of its object, every value of the field's
type, every required field present. OpenShift's Route is not in it and is checked by hand.
Then the manifests are checked against each other and against the image: probes on the
routes the bot serves, only /telegram and /app/ public, the Secret and ConfigMap the pods
read exist, nothing runs as root, backups are written 0600 and pruned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

client = pytest.importorskip("kubernetes.client")

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"

MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Service"): "V1Service",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("batch/v1", "Job"): "V1Job",
    ("batch/v1", "CronJob"): "V1CronJob",
    ("networking.k8s.io/v1", "Ingress"): "V1Ingress",
}
PUBLIC_PATHS = {"/telegram", "/app/"}
_SCALARS = {
    "str": str,
    "int": int,
    "bool": bool,
    "float": (int, float),
    "datetime": str,
    "date": str,
}


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((str(path.relative_to(DEPLOY)), doc))
    return found


def schema_problems(value: Any, type_name: str, where: str) -> list[str]:
    """Keys not in the model, values of the wrong type (recursively)."""
    if type_name == "object":
        return []
    if type_name.lower().startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        inner = type_name[5:-1]
        return [
            p for i, item in enumerate(value) for p in schema_problems(item, inner, f"{where}[{i}]")
        ]
    if type_name.startswith(("dict(", "Dict[")):  # the client's two spellings
        if not isinstance(value, dict):
            return [f"{where}: expected a mapping"]
        inner = type_name[5:-1].split(", ", 1)[1]
        return [p for k, v in value.items() for p in schema_problems(v, inner, f"{where}.{k}")]
    if type_name in _SCALARS:
        kind = _SCALARS[type_name]
        wrong = not isinstance(value, kind) or (type_name == "int" and isinstance(value, bool))
        return [f"{where}: expected {type_name}, got {value!r}"] if wrong else []
    model = getattr(client, type_name)
    if not isinstance(value, dict):
        return [f"{where}: expected a {type_name} mapping"]
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    problems = []
    for key, inner in value.items():
        if key not in by_json:
            problems.append(f"{where}.{key}: not a field of {type_name}")
            continue
        problems += schema_problems(inner, model.openapi_types[by_json[key]], f"{where}.{key}")
    return problems


@pytest.mark.parametrize(
    ("name", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_manifest_is_a_valid_kubernetes_object(name: str, doc: dict[str, Any]) -> None:
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key == ("route.openshift.io/v1", "Route"):
        spec = doc["spec"]
        assert set(doc) <= {"apiVersion", "kind", "metadata", "spec"}
        assert set(spec) <= {"host", "path", "to", "port", "tls", "wildcardPolicy"}
        assert spec["to"]["kind"] == "Service" and spec["to"]["name"]
        assert spec["tls"]["termination"] in {"edge", "reencrypt", "passthrough"}
        return
    assert key in MODELS, f"{name}: unexpected {key}"
    model = MODELS[key]
    assert schema_problems(doc, model, f"{name}:{doc['kind']}") == []
    # Required fields: the API client's own deserialisation refuses a missing one.
    client.ApiClient()._ApiClient__deserialize(doc, model)


def by_kind() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for _name, doc in documents():
        found.setdefault(doc["kind"], []).append(doc)
    return found


def pod_specs() -> list[dict[str, Any]]:
    kinds = by_kind()
    specs = [d["spec"]["template"]["spec"] for d in kinds["Deployment"] + kinds["Job"]]
    specs += [c["spec"]["jobTemplate"]["spec"]["template"]["spec"] for c in kinds["CronJob"]]
    return specs


def test_probes_use_the_routes_the_bot_serves_on_its_port() -> None:
    (deployment,) = by_kind()["Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    (configmap,) = by_kind()["ConfigMap"]
    assert ports[container["readinessProbe"]["httpGet"]["port"]] == int(
        configmap["data"]["TELEGRAM_WEBHOOK_PORT"]
    )
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 15


def test_only_telegram_and_the_mini_app_are_public_and_reach_the_service() -> None:
    kinds = by_kind()
    (service,) = kinds["Service"]
    (deployment,) = kinds["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (ingress,) = kinds["Ingress"]
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["path"] for p in paths} == PUBLIC_PATHS
    assert {p["backend"]["service"]["name"] for p in paths} == {service["metadata"]["name"]}
    routes = kinds["Route"]
    assert {r["spec"]["path"] for r in routes} == PUBLIC_PATHS
    assert {r["spec"]["to"]["name"] for r in routes} == {service["metadata"]["name"]}


def test_pods_read_the_secret_and_config_that_exist_and_never_run_as_root() -> None:
    kinds = by_kind()
    secrets = {s["metadata"]["name"] for s in kinds["Secret"]}
    configs = {c["metadata"]["name"] for c in kinds["ConfigMap"]}
    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert "runAsUser" not in spec["securityContext"]  # OpenShift assigns the uid
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configs
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    (secret,) = [s for s in kinds["Secret"] if s["metadata"]["name"] == ref["name"]]
                    assert ref["key"] in secret["stringData"]


def test_the_migration_job_migrates_and_the_backup_job_writes_0600_with_retention() -> None:
    kinds = by_kind()
    (job,) = kinds["Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][-2:] == ["bot", "migrate"]
    (cronjob,) = kinds["CronJob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    (backup,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = backup["command"][-1]
    assert "umask 077" in script and "python -m data backup --out" in script
    assert re.search(r"find /backups .*-mtime \+\"?\$\{?KEEP_DAYS", script)
    claims = {c["metadata"]["name"] for c in kinds["PersistentVolumeClaim"]}
    volumes = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert {
        v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
    } <= claims


def test_kustomizations_name_files_that_exist() -> None:
    for kustomization in DEPLOY.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(kustomization.read_text())["resources"]:
            assert (kustomization.parent / resource).is_file(), f"{kustomization}: {resource}"
