"""Benchmark of the Mini App (issue 17): page ready, save latency, page weight.

* page ready: DOMContentLoaded to the first input usable (the form drawn from the API), in
  headless Debian Chromium, for a division of 20 service entities — 10 loads, median and
  worst; target median ≤ 300 ms;
* save: one entity saved through ``POST /app/api/save`` over real HTTP (signature check,
  rules, version check, the data save functions, the refreshed view), 200 saves by 20
  contacts (the rate limit is 10 a minute per person) — p50 and p95; target p95 ≤ 50 ms, on
  SQLite and on PostgreSQL (its own schema, dropped at the end);
* page weight: the page's files uncompressed (HTML, CSS, JavaScript); target ≤ 150 kB. The
  20-entity division's JSON is printed beside it.

Run: ``.venv/bin/python bench/miniapp_bench.py [--postgres URL | --no-postgres]``
Missed targets are printed as lines starting with ``MISSED``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import text  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

import miniapp  # noqa: E402
from core.services import Services  # noqa: E402
from data import catalog, people, reports  # noqa: E402
from data.catalog import load_catalog  # noqa: E402
from data.db import make_engine, make_sessionmaker, migrate, transaction  # noqa: E402
from data.models import Division, Role, ServiceEntity  # noqa: E402
from miniapp import auth  # noqa: E402
from settings import load_settings  # noqa: E402

TOKEN = "424242:bench-token"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENTITIES = 20
CONTACTS = 20
SAVES = 200
LOADS = 10
READY_TARGET_MS = 300
SAVE_TARGET_MS = 50
WEIGHT_TARGET = 150 * 1024
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _prepare(url: str, schema: str | None) -> Any:
    engine = make_engine(url, schema=schema) if schema else make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_catalog(session)
        division = Division(code="BENCH", name={"fi": "Mittaustoimiala", "sv": "M", "en": "B"})
        session.add(division)
        session.flush()
        for n in range(ENTITIES):
            session.add(
                ServiceEntity(
                    code=f"BENCH_{n:02d}",
                    division_id=division.id,
                    name={"fi": f"Palvelukokonaisuus {n + 1}", "sv": f"Helhet {n + 1}"},
                    sort_order=n,
                )
            )
        session.flush()
        contacts = [
            people.ensure_person(
                session, 9000 + n, name=f"B{n}", roles={Role.CONTACT}, division_id=division.id
            )
            for n in range(CONTACTS)
        ]
        level = catalog.levels(session)[0]
        method = catalog.methods_for_level(session, level.id)[0]
        for entity in catalog.service_entities(session, division.id)[: ENTITIES // 2]:
            reports.save_participation(
                session,
                contacts[0],
                2026,
                entity.id,
                [reports.ParticipationAnswer(level.id, method.id, count=5)],
            )
    return engine, sessions


class Server:
    """The Mini App served by its own process (as the bot serves it), not by a thread of
    the measuring process: the client's work does not compete with the server's."""

    def __init__(self, url: str, schema: str | None) -> None:
        import socket

        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, __file__, "--serve", url, "--port", str(self.port)]
        if schema:
            self.command += ["--schema", schema]

    def __enter__(self) -> Server:
        import subprocess

        self.process = subprocess.Popen(self.command, cwd=ROOT)
        for _ in range(600):
            try:
                httpx.get(f"{self.url}/app/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit("the Mini App server did not start")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def serve(url: str, schema: str | None, port: int) -> None:
    engine = make_engine(url, schema=schema) if schema else make_engine(url)
    services = Services(load_settings(env={}), make_sessionmaker(engine), lambda: NOW)
    app = Starlette(routes=miniapp.routes(services, bot_token=TOKEN))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_saves(base: str) -> tuple[list[float], list[float]]:
    headers = [{auth.HEADER: auth.sign(TOKEN, 9000 + n, NOW)} for n in range(CONTACTS)]
    timings: list[float] = []
    server_side: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        view = client.get("/app/api/division", headers=headers[0]).json()
        level = view["levels"][0]
        versions = {e["id"]: e["version"] for e in view["entities"]}
        ids = list(versions)
        for n in range(SAVES):
            entity_id = ids[n % len(ids)]
            body = {
                "division": "BENCH",
                "entities": [
                    {
                        "id": entity_id,
                        "version": versions[entity_id],
                        "participation": [
                            {
                                "row": "m",
                                "level_id": level["id"],
                                "method_id": level["methods"][0]["id"],
                                "count": str(n + 1),
                            }
                        ],
                        "satisfaction": [],
                    }
                ],
            }
            started = time.perf_counter()
            response = client.post("/app/api/save", headers=headers[n % CONTACTS], json=body)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"save {n} answered {response.status_code}: {response.text}")
            server_side.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            for entity in response.json()["entities"]:
                versions[entity["id"]] = entity["version"]
    return timings, server_side


def measure_page(base: str) -> list[float]:
    from playwright.sync_api import sync_playwright

    init_data = auth.sign(TOKEN, 9000, NOW)
    url = f"{base}/app/#tgWebAppData={quote(init_data)}"
    ready: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)  # warm-up: the browser's own start is not the page's
        page.wait_for_selector("body[data-ready]")
        for _ in range(LOADS):
            page.goto(f"{url}&n={uuid.uuid4().hex}")
            page.reload()
            page.wait_for_selector("body[data-ready]")
            page.wait_for_selector("input.count", state="visible")
            ms = page.evaluate(
                """() => {
                  const nav = performance.getEntriesByType('navigation')[0];
                  const mark = performance.getEntriesByName('miniapp-ready')[0];
                  return mark.startTime - nav.domContentLoadedEventStart;
                }"""
            )
            ready.append(float(ms))
        inputs = page.locator("input, select").count()
        browser.close()
    print(f"  page: {inputs} inputs and choices for {ENTITIES} service entities")
    return ready


def page_weight(base: str) -> tuple[int, int]:
    with httpx.Client(base_url=base) as client:
        files = sum(
            len(client.get(path).content)
            for path in ("/app/", "/app/static/app.js", "/app/static/app.css")
        )
        data = client.get(
            "/app/api/division", headers={auth.HEADER: auth.sign(TOKEN, 9000, NOW)}
        ).content
    return files, len(data)


def run(name: str, url: str, schema: str | None, browser: bool) -> list[str]:
    missed = []
    engine, _sessions = _prepare(url, schema)
    try:
        with Server(url, schema) as server:
            print(f"== {name}")
            if browser:
                weight, data = page_weight(server.url)
                print(
                    f"  page weight: {weight / 1024:.1f} kB uncompressed (target ≤ 150 kB); "
                    f"{ENTITIES}-entity division JSON {data / 1024:.1f} kB"
                )
                if weight > WEIGHT_TARGET:
                    missed.append(f"page weight {weight / 1024:.1f} kB > 150 kB")
                if not Path(CHROMIUM).exists():
                    missed.append(f"page ready not measured: {CHROMIUM} missing (make system-deps)")
                    ready = [0.0]
                else:
                    ready = measure_page(server.url)
                median = statistics.median(ready)
                print(
                    f"  page ready (DOMContentLoaded → first input usable), {LOADS} loads: "
                    f"median {median:.0f} ms, worst {max(ready):.0f} ms "
                    f"(target median ≤ {READY_TARGET_MS} ms)"
                )
                if median > READY_TARGET_MS:
                    missed.append(f"page ready median {median:.0f} ms > {READY_TARGET_MS} ms")
            saves, inside = measure_saves(server.url)
            p50, p95 = _percentile(saves, 0.5), _percentile(saves, 0.95)
            print(
                f"  save of one entity over HTTP, {SAVES} saves: p50 {p50:.1f} ms, "
                f"p95 {p95:.1f} ms (target p95 ≤ {SAVE_TARGET_MS} ms); inside the server "
                f"p50 {_percentile(inside, 0.5):.1f} ms, p95 {_percentile(inside, 0.95):.1f} ms"
            )
            if p95 > SAVE_TARGET_MS:
                missed.append(f"{name}: save p95 {p95:.1f} ms > {SAVE_TARGET_MS} ms")
    finally:
        engine.dispose()
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.schema, args.port)
        return 0
    missed: list[str] = []
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work shares them)")
    with tempfile.TemporaryDirectory() as tmp:
        missed += run("SQLite", f"sqlite:///{tmp}/bench.sqlite3", None, browser=True)
    if not args.no_postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(args.postgres)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as error:  # no PostgreSQL here: say so, measure SQLite only
            print(f"PostgreSQL not measured: {error.__class__.__name__}")
        else:
            try:
                missed += run("PostgreSQL", args.postgres, schema, browser=False)
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    for line in missed:
        print(f"MISSED {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
