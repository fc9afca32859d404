"""The dependency lists agree with each other and the locks are what a server may install.

pyproject.toml, requirements/*.in and the hashed lock files are kept by hand in step; these
tests catch the usual slips: a package added to one list only, a pin without a hash (pip
would then refuse the whole file under --require-hashes), a test tool in the runtime lock.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
#: How the code reads an environment variable (an assignment such as env["X"] = … is not).
READS = [
    re.compile(r"""env(?:iron)?\.get\(\s*["']([A-Z][A-Z0-9_]+)["']"""),
    re.compile(r"""env(?:iron)?\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\](?!\s*=[^=])"""),
    re.compile(r"""getenv\(\s*["']([A-Z][A-Z0-9_]+)["']"""),
    re.compile(r"""_ENV\s*=\s*["']([A-Z][A-Z0-9_]+)["']"""),
]
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(specs: list[str]) -> set[str]:
    found = set()
    for spec in specs:
        match = _NAME.match(spec.strip())
        assert match, spec
        found.add(_normal(match.group(1)))
    return found


def _in_file(name: str) -> list[str]:
    lines = (REQUIREMENTS / name).read_text(encoding="utf-8").splitlines()
    return [ln for ln in lines if ln.strip() and not ln.startswith(("#", "-"))]


def _lock(name: str) -> dict[str, list[str]]:
    """Package → its hashes, from a pip-compile --generate-hashes file."""
    pins: dict[str, list[str]] = {}
    current = ""
    for line in (REQUIREMENTS / name).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+", line):
            current = _normal(match.group(1))
            pins[current] = []
        elif hashes := re.findall(r"--hash=sha256:[0-9a-f]{64}", line):
            pins[current].extend(hashes)
    return pins


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_lists_the_same_runtime_and_dev_packages_as_the_in_files() -> None:
    project = _pyproject()
    assert _names(project["project"]["dependencies"]) == _names(_in_file("runtime.in"))
    assert _names(project["dependency-groups"]["dev"]) == _names(_in_file("dev.in"))


def test_every_direct_dependency_is_pinned_in_its_lock_with_hashes() -> None:
    for source, lock in (("runtime.in", "runtime.txt"), ("dev.in", "dev.txt")):
        pins = _lock(lock)
        missing = _names(_in_file(source)) - set(pins)
        assert not missing, f"{lock} lacks {missing}: run make lock"
        unhashed = [name for name, hashes in pins.items() if not hashes]
        assert not unhashed, f"{lock}: pins without hashes {unhashed}"


def test_the_server_lock_holds_no_test_or_lint_tools() -> None:
    runtime = set(_lock("runtime.txt"))
    assert not runtime & {"pytest", "pytest-asyncio", "pytest-xdist", "ruff", "hypothesis"}


def test_dev_lock_pins_shared_packages_at_the_runtime_versions() -> None:
    """Installed together (make test), the two locks must not ask for two versions."""
    pin = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.M)
    runtime = {_normal(n): v for n, v in pin.findall((REQUIREMENTS / "runtime.txt").read_text())}
    dev = {_normal(n): v for n, v in pin.findall((REQUIREMENTS / "dev.txt").read_text())}
    clashes = {n: (runtime[n], dev[n]) for n in runtime.keys() & dev.keys() if runtime[n] != dev[n]}
    assert not clashes


def test_env_example_names_every_variable_the_code_reads() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    declared = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.M))
    read: set[str] = set()
    folders = [
        d for d in ROOT.iterdir() if d.is_dir() and d.name[0] not in "._" and d.name != "tests"
    ]
    for path in (p for folder in folders for p in folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in READS:
            read |= set(pattern.findall(text))
    assert read, "the scan found no variables: the patterns are out of date"
    assert read <= declared, f".env.example lacks {sorted(read - declared)}"
