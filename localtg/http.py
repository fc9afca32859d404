"""A small HTTP/1.1 Bot API server over a `LocalBotApi` (standard library only).

Lets a bot running as a separate process (``python -m bot`` with ``base_url`` pointed here)
talk to the same emulation the in-process tests use. It understands what PTB's
``HTTPXRequest`` sends — urlencoded forms, multipart uploads — plus JSON bodies and query
strings, over keep-alive connections. The bot token is part of every URL and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from localtg.api import LocalBotApi
from localtg.errors import TransportFault
from localtg.params import Upload

_LOG = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024 * 1024
#: How long an injected "timeout" holds the connection if the client never gives up.
MAX_TIMEOUT_HOLD = 120.0
_T = TypeVar("_T")


class _HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


class BotApiHttpServer:
    """Serves ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.host = ""
        self.port = 0

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._connection, host, port)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    request = await _read_request(reader)
                except _HttpError as error:
                    await _respond(writer, error.status, b"", keep_alive=False)
                    return
                if request is None:
                    return
                if not await self._serve(request, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only close() cancels us; ending quietly keeps asyncio's stream callback from
            # reporting the cancellation as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must be closed."""
        target = urlsplit(request.target)
        path = unquote(target.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            wrong_token = self.api.token is not None and token != self.api.token
            content = None if wrong_token else self.api.file_content(file_path)
            status = 200 if content is not None else 404
            await _respond(writer, status, content or b"", "application/octet-stream")
            return request.keep_alive
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method or "/" in method:
            body = b'{"ok":false,"error_code":404,"description":"Not Found"}'
            await _respond(writer, 404, body)
            return request.keep_alive
        try:
            params, files = _parameters(request, target.query)
        except _HttpError:
            body = b'{"ok":false,"error_code":400,"description":"Bad Request: invalid body"}'
            await _respond(writer, 400, body)
            return request.keep_alive
        try:
            reply = await self.api.call(method, params, files, token=token)
        except TransportFault as fault:
            _LOG.debug("%s: injected %s", method, fault.kind)
            if fault.kind == "timeout":
                # Say nothing until the client's read timeout makes it hang up.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(), MAX_TIMEOUT_HOLD)
            return False
        except Exception:
            # A bug in the emulation: answer like a failing Telegram, log without the URL.
            _LOG.exception("localtg: internal error while answering %s", method)
            body = b'{"ok":false,"error_code":500,"description":"Internal Server Error"}'
            await _respond(writer, 500, body)
            return request.keep_alive
        _LOG.debug("%s -> %s", method, reply.status)
        await _respond(writer, reply.status, reply.payload)
        return request.keep_alive


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise _HttpError(400) from None
        return None
    except asyncio.LimitOverrunError:
        raise _HttpError(431) from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise _HttpError(400) from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise _HttpError(413)
        body = await reader.readexactly(length)
    return _Request(method.upper(), target, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        total += size
        if total > MAX_BODY_BYTES:
            raise _HttpError(413)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    *,
    keep_alive: bool = True,
) -> None:
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def _parameters(request: _Request, query: str) -> tuple[dict[str, object], dict[str, Upload]]:
    params: dict[str, object] = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if not request.body:
        return params, files
    try:
        if mime == "application/x-www-form-urlencoded":
            params.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        elif mime == "application/json":
            decoded = json.loads(request.body)
            if not isinstance(decoded, dict):
                raise _HttpError(400)
            params.update(decoded)
        elif mime == "multipart/form-data":
            boundary = _header_params(content_type).get("boundary")
            if not boundary:
                raise _HttpError(400)
            fields, files = _parse_multipart(request.body, boundary.encode("latin-1"))
            params.update(fields)
        else:
            raise _HttpError(415)
    except (UnicodeDecodeError, ValueError):
        raise _HttpError(400) from None
    return params, files


_HEADER_PARAM = re.compile(r';\s*([\w*-]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def _header_params(value: str) -> dict[str, str]:
    """Parameters of a header like ``form-data; name="a"; filename="b.pdf"``."""
    found: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(value):
        name = match.group(1).lower()
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        if name.endswith("*"):  # RFC 5987: filename*=utf-8''%C3%A4.pdf
            found[name[:-1]] = unquote(raw.partition("''")[2])
        else:
            # httpx escapes '"' as %22 and '\' as '\\' in form parameters.
            found.setdefault(name, re.sub(r"\\(.)", r"\1", raw).replace("%22", '"'))
    return found


def _parse_multipart(body: bytes, boundary: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for section in body.split(b"--" + boundary)[1:]:
        if section.startswith(b"--"):
            break
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise _HttpError(400)
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")  # type: ignore[assignment]
        if name is None:
            raise _HttpError(400)
        if "filename" in disposition:
            mime = headers.get("content-type", "application/octet-stream")
            files[name] = Upload(disposition["filename"], content, mime)
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


@asynccontextmanager
async def serve_http(
    api: LocalBotApi, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve ``api`` while the block runs; yields the base URL (``http://host:port/bot``)."""
    server = BotApiHttpServer(api)
    await server.start(host, port)
    try:
        yield server.base_url
    finally:
        await server.close()


class ServerThread:
    """The HTTP server on its own event loop in a daemon thread.

    For a bot subprocess that long-polls while the test thread blocks (e.g. in
    ``subprocess.run``). The api then belongs to the server thread's loop: drive users with
    `run` (from async code) or `run_sync`, never by awaiting them on another loop.
    """

    def __init__(self, api: LocalBotApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self._address = (host, port)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="localtg-http", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self.base_file_url = ""

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("localtg: HTTP server thread did not start")
        if self._error is not None:
            raise RuntimeError("localtg: HTTP server failed to start") from self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def run(self, coro: Coroutine[Any, Any, _T]) -> Awaitable[_T]:
        """Run ``coro`` (e.g. ``user.send("/start")``) on the server loop; await the result."""
        return asyncio.wrap_future(self._submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, _T], timeout: float | None = 180.0) -> _T:
        """Like `run`, blocking the calling thread."""
        return self._submit(coro).result(timeout)

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        if self._loop is None:
            coro.close()
            raise RuntimeError("localtg: server thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start() if it happens before ready
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = BotApiHttpServer(self.api)
        await server.start(*self._address)
        self.base_url, self.base_file_url = server.base_url, server.base_file_url
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.close()


def start_in_thread(
    api: LocalBotApi, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Start `ServerThread` and return ``(base_url, stop)``; use the class for more control."""
    thread = ServerThread(api, host, port).start()
    return thread.base_url, thread.stop
