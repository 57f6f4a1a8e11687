"""Turn an event's URI into a local file the decoders may open, or say clearly why not.

Local paths must resolve (symlinks followed) under one of the configured media roots; http(s)
URLs must name an allowed host, may not redirect to loopback or private addresses, and are
fetched with a size cap and a time limit into a temporary file."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from streams.config import Settings
from streams.errors import MediaError


class MediaNotFound(MediaError):
    code = "media_not_found"


class MediaForbidden(MediaError):
    code = "media_forbidden"


class MediaTooLarge(MediaError):
    code = "media_too_large"


def local_path(uri: str, settings: Settings) -> Path:
    """The confined local path a local-path or file:// URI names."""
    if uri.startswith("file://"):
        parsed = urllib.parse.urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise MediaForbidden(f"file URI names a remote host {parsed.netloc!r}")
        raw = urllib.parse.unquote(parsed.path)
    else:
        raw = uri
    path = Path(raw).expanduser()
    resolved = path.resolve(strict=False)
    if not any(resolved.is_relative_to(root) for root in settings.allowed_media_roots):
        roots = ", ".join(str(r) for r in settings.allowed_media_roots)
        raise MediaForbidden(f"{path} lies outside the allowed media roots ({roots}); see DUPSTREAM_MEDIA_ROOTS")
    if not resolved.is_file():
        raise MediaNotFound(f"no such file: {path}")
    size = resolved.stat().st_size
    if size == 0:
        raise MediaError(f"{path} is empty (0 bytes)", code="media_empty")
    if size > settings.max_bytes:
        raise MediaTooLarge(f"{path} has {size} bytes, more than the {settings.max_bytes} allowed")
    return resolved


def is_remote(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))


def check_uri(uri: str, settings: Settings) -> None:
    """Cheap checks at ingest, before any stage spends time on the video."""
    if is_remote(uri):
        _check_host(urllib.parse.urlparse(uri).hostname or "", settings)
    else:
        local_path(uri, settings)


def _check_host(host: str, settings: Settings) -> None:
    if host.lower() not in {h.lower() for h in settings.http_allowed_hosts}:
        raise MediaForbidden(f"host {host!r} is not in DUPSTREAM_HTTP_ALLOWED_HOSTS")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        raise MediaNotFound(f"cannot resolve {host!r}: {error}") from error
    # A host the operator allowed by name may be loopback on purpose (tests, sidecars); what we
    # refuse is a redirect away from it, see _NoRedirect.
    if not addresses:
        raise MediaNotFound(f"{host!r} has no address")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        host = urllib.parse.urlparse(newurl).hostname or ""
        try:
            address = ipaddress.ip_address(socket.gethostbyname(host))
        except (OSError, ValueError):
            raise MediaForbidden(f"redirect to unresolvable host {host!r}") from None
        if address.is_private or address.is_loopback or address.is_link_local:
            raise MediaForbidden(f"redirect to a private or loopback address ({host})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@contextlib.contextmanager
def opened_media(uri: str, settings: Settings) -> Iterator[Path]:
    """A local file holding the media; a fetched copy is deleted on exit."""
    if not is_remote(uri):
        yield local_path(uri, settings)
        return
    _check_host(urllib.parse.urlparse(uri).hostname or "", settings)
    opener = urllib.request.build_opener(_NoRedirect)
    with tempfile.NamedTemporaryFile(prefix="dupstream-", suffix=".media") as copy:
        try:
            with opener.open(uri, timeout=settings.decode_timeout_s) as response:
                total = 0
                while chunk := response.read(1 << 20):
                    total += len(chunk)
                    if total > settings.max_bytes:
                        raise MediaTooLarge(f"{uri} is larger than the {settings.max_bytes} bytes allowed")
                    copy.write(chunk)
        except MediaError:
            raise
        except Exception as error:
            raise MediaNotFound(f"cannot fetch {uri}: {error}") from error
        copy.flush()
        if total == 0:
            raise MediaError(f"{uri} is empty (0 bytes)", code="media_empty")
        yield Path(copy.name)
