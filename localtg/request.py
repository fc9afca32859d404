"""`LocalRequest`: PTB's network layer replaced by a direct call into `LocalBotApi`.

PTB's ``Bot`` builds every request as ``<base_url><token>/<method>`` plus a `RequestData`;
the request class only has to return ``(status, json bytes)``. Parameters are taken in their
wire form (``json_parameters``: strings as-is, everything else JSON-encoded) so the in-process
path and the HTTP path exercise the same parsing.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from localtg.api import LocalBotApi
from localtg.errors import TransportFault
from localtg.params import Upload


class LocalRequest(BaseRequest):
    """Use one instance for ``request`` and one for ``get_updates_request`` (or the same)."""

    __slots__ = ("_read_timeout", "api", "initialized")

    def __init__(self, api: LocalBotApi, *, read_timeout: float | None = 5.0) -> None:
        self.api = api
        self._read_timeout = read_timeout
        self.initialized = False

    @property
    def read_timeout(self) -> float | None:
        """Reported to PTB, which adds the long-poll timeout to it for getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        self.initialized = True

    async def shutdown(self) -> None:
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        path = unquote(urlsplit(url).path)
        if "/file/bot" in path:
            return self._download(path)
        token, _, api_method = path.rpartition("/")
        token = token.rpartition("/bot")[2]
        if api_method.lower() == "getupdates":
            self.api.polled_in_process = True
        params = request_data.json_parameters if request_data else {}
        files = _uploads(request_data) if request_data else {}
        try:
            reply = await self.api.call(api_method, params, files, token=token)
        except TransportFault as fault:
            if fault.kind == "timeout":
                raise TimedOut("Timed out (injected by localtg)") from fault
            raise NetworkError("httpx.ConnectError: injected by localtg") from fault
        return reply.status, reply.payload

    def _download(self, path: str) -> tuple[int, bytes]:
        file_path = path.split("/file/bot", 1)[1].partition("/")[2]
        content = self.api.file_content(file_path)
        if content is None:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        return 200, content


def _uploads(request_data: RequestData) -> dict[str, Upload]:
    uploads: dict[str, Upload] = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = Upload(filename=filename, content=data, mime_type=mime_type)
    return uploads
