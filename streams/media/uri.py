"""Turn an event's URI into a local file the decoders may open, or say clearly why not.

Local paths must resolve (symlinks followed) under one of the configured media roots; http(s)
URLs, and every redirect they take, must name an allowed host, and the socket may not connect to
a loopback, private or link-local address unless that is allowed (checked on the connected
socket, so DNS cannot swap the address after the check). The fetch goes into a temporary file,
size-capped and time-limited in total. Decoding never involves a shell or a subprocess."""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from streams.config import Settings
from streams.errors import ErrorCode, InvalidEvent, MediaError


class MediaNotFound(MediaError):
    code = ErrorCode.MEDIA_NOT_FOUND


class MediaForbidden(MediaError):
    code = ErrorCode.MEDIA_FORBIDDEN


class MediaTooLarge(MediaError):
    code = ErrorCode.MEDIA_TOO_LARGE


class FetchTimeout(MediaError):
    code = ErrorCode.FETCH_TIMEOUT


def local_path(uri: str, settings: Settings) -> Path:
    """The confined local path a local-path or file:// URI names."""
    if uri.startswith("file://"):
        parsed = urllib.parse.urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise MediaForbidden(f"file URI names a remote host {parsed.netloc!r}")
        raw = urllib.parse.unquote(parsed.path)
    else:
        raw = uri
    path = Path(raw)
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as error:  # a symlink loop, a NUL byte
        raise MediaNotFound(f"cannot resolve {path}: {error}") from None
    if not any(resolved.is_relative_to(root) for root in settings.allowed_media_roots):
        roots = ", ".join(str(r) for r in settings.allowed_media_roots)
        raise MediaForbidden(f"{path} lies outside the allowed media roots ({roots}); see DUPSTREAM_MEDIA_ROOTS")
    try:
        size = resolved.stat().st_size if resolved.is_file() else None
    except OSError as error:  # a name too long, no permission
        raise MediaNotFound(f"cannot open {path}: {error.strerror}") from None
    if size is None:
        raise MediaNotFound(f"no such file: {path}")
    if size == 0:
        raise MediaError(f"{path} is empty (0 bytes)", code=ErrorCode.MEDIA_EMPTY)
    if size > settings.max_bytes:
        raise MediaTooLarge(f"{path} has {size} bytes, more than the {settings.max_bytes} allowed")
    return resolved


def is_remote(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))


def check_uri(uri: str, settings: Settings) -> None:
    """Cheap checks at ingest, before any stage spends time on the video (no DNS look-up: the
    connected address is checked when the video is fetched)."""
    if is_remote(uri):
        _allowed_host(uri, settings)
    else:
        local_path(uri, settings)


def _allowed_host(url: str, settings: Settings) -> str:
    try:
        host = urllib.parse.urlparse(url).hostname or ""
    except ValueError as error:
        raise InvalidEvent(f"malformed URL {url!r}: {error}") from None
    if host.lower() not in {h.lower() for h in settings.http_allowed_hosts}:
        raise MediaForbidden(f"host {host!r} is not in DUPSTREAM_HTTP_ALLOWED_HOSTS")
    return host


def is_internal_address(text: str) -> bool:
    """Loopback, private, link-local (cloud metadata), unspecified or reserved, IPv4 or IPv6."""
    address = ipaddress.ip_address(text.split("%")[0])
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified
            or address.is_reserved or address.is_multicast)


def _connect_checked(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *,
                     allow_private: bool) -> socket.socket:
    sock = socket.create_connection(address, timeout, source_address)
    if not allow_private and is_internal_address(sock.getpeername()[0]):
        sock.close()
        raise MediaForbidden(f"{address[0]} is at a private or loopback address; see DUPSTREAM_HTTP_ALLOW_PRIVATE")
    return sock


class _GuardedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """http and https whose sockets are checked once connected: plain and TLS connections both
    open theirs through _create_connection."""

    def __init__(self, allow_private: bool):
        urllib.request.HTTPSHandler.__init__(self)
        self.connect = functools.partial(_connect_checked, allow_private=allow_private)

    def _connection(self, connection_class: type[http.client.HTTPConnection]):
        def connection(*args, **kwargs) -> http.client.HTTPConnection:
            opened = connection_class(*args, **kwargs)
            opened._create_connection = self.connect
            return opened

        return connection

    def http_open(self, req):
        return self.do_open(self._connection(http.client.HTTPConnection), req)

    def https_open(self, req):
        return self.do_open(self._connection(http.client.HTTPSConnection), req, context=self._context)


class _AllowedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, settings: Settings):
        self.settings = settings

    def http_error_302(self, req, fp, code, msg, headers):
        target = urllib.parse.urljoin(req.full_url, headers.get("location") or headers.get("uri") or "")
        if not is_remote(target):
            raise MediaForbidden(f"redirect to a non-http(s) URL {target!r}")
        _allowed_host(target, self.settings)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _fetch(uri: str, copy, settings: Settings) -> int:
    """Copy the body of uri into the open file copy; the number of bytes."""
    opener = urllib.request.build_opener(_GuardedHandler(settings.http_allow_private), _AllowedRedirects(settings))
    deadline = time.monotonic() + settings.http_timeout_s
    with opener.open(uri, timeout=settings.http_timeout_s) as response:
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > settings.max_bytes:
            raise MediaTooLarge(f"{uri} announces {announced} bytes, more than the {settings.max_bytes} allowed")
        total = 0
        # read1 returns what has arrived: a server trickling bytes meets the deadline between reads.
        while chunk := response.read1(1 << 20):
            total += len(chunk)
            if total > settings.max_bytes:
                raise MediaTooLarge(f"{uri} is larger than the {settings.max_bytes} bytes allowed")
            if time.monotonic() > deadline:
                raise FetchTimeout(f"fetching {uri} took longer than {settings.http_timeout_s:g} s")
            copy.write(chunk)
    return total


@contextlib.contextmanager
def opened_media(uri: str, settings: Settings) -> Iterator[Path]:
    """A local file holding the media; a fetched copy is deleted on exit."""
    if not is_remote(uri):
        yield local_path(uri, settings)
        return
    _allowed_host(uri, settings)
    with tempfile.NamedTemporaryFile(prefix="dupstream-", suffix=".media") as copy:
        try:
            total = _fetch(uri, copy, settings)
        except MediaError:
            raise
        except (TimeoutError, urllib.error.URLError) as error:
            if isinstance(getattr(error, "reason", error), TimeoutError):
                raise FetchTimeout(f"{uri} sent nothing for {settings.http_timeout_s:g} s") from error
            raise MediaNotFound(f"cannot fetch {uri}: {error}") from error
        except Exception as error:
            raise MediaNotFound(f"cannot fetch {uri}: {error}") from error
        copy.flush()
        if total == 0:
            raise MediaError(f"{uri} is empty (0 bytes)", code=ErrorCode.MEDIA_EMPTY)
        yield Path(copy.name)
