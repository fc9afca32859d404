"""The README's nginx example works on Debian 12's nginx (1.22.1)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Directives nginx 1.22 does not know (`http2 on;` came with 1.25.1, `http3`/`quic` 1.25).
NEWER_THAN_1_22 = re.compile(r"^\s*(http2\s+on|http3|quic_\w+)\b|listen\s[^;]*\bquic\b", re.M)


def nginx_example() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) == 1, "one nginx example in the README"
    return blocks[0]


def test_the_nginx_example_uses_nothing_newer_than_nginx_1_22() -> None:
    example = nginx_example()
    assert not NEWER_THAN_1_22.search(example), NEWER_THAN_1_22.search(example)
    assert re.search(r"listen\s+443\s+ssl\s+http2;", example)


def test_the_nginx_example_passes_nginx_t_where_nginx_is_installed(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed")
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = (
        nginx_example()
        .replace("/etc/ssl/mittaribotti/fullchain.pem", str(cert))
        .replace("/etc/ssl/mittaribotti/privkey.pem", str(key))
    )
    temp_paths = "\n".join(
        f"{kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\naccess_log off;\n{temp_paths}\n{server}\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
