"""Files and pictures served by the one web application at signed, expiring links.

Some channels cannot carry a file themselves: the Zalo Bot platform only sends a photo by URL
and has no document method, and Zalo OA's file upload takes PDF and Word files only (so not a
calendar file or a spreadsheet). Staff who handle a petition should also open the photos a
resident sent on the web chat. For all of these the process stores the bytes in its data folder
and gives out ``PUBLIC_URL/tep/<token>/<name>``:

* the token is the file's place in the data folder, its name and its expiry, signed with
  HMAC-SHA256 (a secret from ``FILE_LINK_SECRET``, or generated once and kept in the data
  folder); nothing else is served, and there is no listing;
* a link works ``FILE_LINK_DAYS`` days (30 by default);
* the answer carries the file's type (``text/calendar`` for ``.ics``) and a
  ``Content-Disposition`` with its name: ``inline`` for pictures, ``attachment`` otherwise.

Without ``PUBLIC_URL`` there are no links: channels say so in the chat instead (and the log
says so at start).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import re
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.config import Settings
from texts import t

if TYPE_CHECKING:  # the web library is loaded only where files are served
    from aiohttp import web

log = logging.getLogger(__name__)

ROUTE = "/tep"
STORE = "files"  # stored files, under the data folder, by content digest
KEY_FILE = "file-link.key"
PICTURES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")

mimetypes.add_type("text/calendar", ".ics")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def safe_name(name: str) -> str:
    """A file name fit for a URL path and a header: no folders, no odd characters."""
    name = _SAFE_NAME.sub("-", Path(name).name).strip("-.") or "tep"
    return name[:100]


def content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def secret_from(settings: Settings) -> bytes:
    """``FILE_LINK_SECRET``, or the key kept in the data folder (made once, readable only by
    the process's user)."""
    if settings.file_link_secret:
        return settings.file_link_secret.encode()
    path = settings.data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key)
    return key


class PublicFiles:
    """Store files under ``root`` and sign links to them; serve the links (``routes``)."""

    def __init__(
        self,
        root: Path,
        secret: bytes,
        public_url: str | None,
        *,
        days: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self._secret = secret
        self.public_url = public_url.rstrip("/") if public_url else None
        self.lifetime = days * 86400
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> PublicFiles:
        return cls(
            settings.data_dir,
            secret_from(settings),
            settings.public_url,
            days=settings.file_link_days,
        )

    @property
    def enabled(self) -> bool:
        return self.public_url is not None

    # -- links ------------------------------------------------------------------------------------

    def store(self, content: bytes) -> Path:
        """Keep ``content`` (once per content) and return where it is."""
        folder = self.root / STORE
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / hashlib.sha256(content).hexdigest()
        if not path.exists():
            partial = path.with_suffix(f".{secrets.token_hex(4)}.part")
            partial.write_bytes(content)
            partial.replace(path)
        return path

    def link(self, name: str, content: bytes) -> str | None:
        """A link to ``content`` under ``name``; None without ``PUBLIC_URL``."""
        if not self.enabled:
            return None
        return self.url_for(self.store(content), name)

    def link_ref(self, file_ref: str) -> str | None:
        """A link to a stored ``file:<path>`` reference (a photo sent on the web chat), when the
        path is inside the data folder; None for anything else or without ``PUBLIC_URL``."""
        if not self.enabled or not file_ref.startswith("file:"):
            return None
        path = Path(file_ref.removeprefix("file:"))
        if not path.is_file():
            return None
        return self.url_for(path, path.name)

    def url_for(self, path: Path, name: str) -> str | None:
        if self.public_url is None:
            return None
        try:
            relative = path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        name = safe_name(name)
        expires = int(self._clock()) + self.lifetime
        payload = _b64(json.dumps([relative.as_posix(), name, expires]).encode())
        token = f"{payload}.{self._sign(payload)}"
        return f"{self.public_url}{ROUTE}/{token}/{quote(name)}"

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def resolve(self, token: str) -> tuple[Path, str] | None:
        """The file and name a token stands for, if it is signed by us and not expired."""
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            relative, name, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires < self._clock():
            return None
        path = (self.root / str(relative)).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return None
        return path, str(name)

    # -- serving ----------------------------------------------------------------------------------

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        from aiohttp import web

        return [
            web.get(ROUTE + "/{token}", self.serve),
            web.get(ROUTE + "/{token}/{name}", self.serve),
        ]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        found = self.resolve(request.match_info["token"])
        if found is None:
            raise web.HTTPNotFound()
        path, name = found
        kind = content_type(name)
        disposition = "inline" if kind in PICTURES else "attachment"
        headers = {
            "Content-Type": kind + ("; charset=utf-8" if kind.startswith("text/") else ""),
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        return web.Response(body=path.read_bytes(), headers=headers)


def file_link_for(settings: Settings) -> Callable[[str], str | None] | None:
    """Links to stored ``file:`` references for the use cases (staff open a web chat photo),
    when ``PUBLIC_URL`` is set."""
    if not settings.public_url:
        return None
    return PublicFiles.from_settings(settings).link_ref


def file_message(files: PublicFiles | None, name: str, content: bytes) -> str:
    """The message that stands for a file on a channel that cannot carry it: its download
    link, or (without PUBLIC_URL) how to get it otherwise."""
    url = files.link(name, content) if files is not None else None
    if files is None or url is None:
        return t("files.no_link", name=name)
    return t("files.link", name=name, url=url, days=files.lifetime // 86400)
