"""Who may talk to the server, and what every response tells the browser.

* Bound to a loopback address, the server answers local clients without a token (unless one is
  set) and rejects requests whose ``Host`` is not a loopback name, so a web page elsewhere
  cannot reach it through DNS rebinding.
* Bound to any other address it never starts without a token: ``SOCIALAUDIT_TOKEN``, or one
  it generates and prints once. Every request then needs it, as ``Authorization: Bearer T``,
  or in the ``socialaudit_token`` cookie that ``?token=T`` sets once (then redirected away, so
  the token does not linger in the address bar or in history).
* Every response carries a Content-Security-Policy with no inline script and no remote
  origin, plus ``nosniff``, ``no-referrer`` and frame denial.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from socialaudit.errors import ConfigError

TOKEN_ENV = "SOCIALAUDIT_TOKEN"
COOKIE = "socialaudit_token"
MIN_TOKEN_CHARS = 16
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

#: Scripts and styles only from this server (Plotly's JS is served from the installed
#: package); no inline script, no eval, no plugin, no framing, forms post only here.
#: Plotly sets element styles from script, which needs 'unsafe-inline' for style-src only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to bind) only accepts local connections."""
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, env_token: str | None) -> tuple[str | None, bool]:
    """The token the server requires for ``host``, and whether it was generated here.

    Loopback without ``SOCIALAUDIT_TOKEN``: no token. Any other address: the variable's
    value, or a new random one. A set but short token is refused rather than trusted.
    """
    if env_token is not None and env_token.strip():
        token = env_token.strip()
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"{TOKEN_ENV} is {len(token)} characters; use at least {MIN_TOKEN_CHARS} "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')."
            )
        return token, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


#: A well-formed ``Host``: a name or IPv4 address, or a bracketed IPv6 address, and a port.
_HOST_RE = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::[0-9]{1,5})?")


def host_of(header: str) -> str | None:
    """The host part of a ``Host`` header: ``[::1]:8000`` -> ``[::1]``, ``a:80`` -> ``a``.

    None when the header is not a host and port at all: ``localhost:8000@evil`` must not
    pass for ``localhost`` (issue 14), so anything but that exact shape is refused.
    """
    v = header.strip().lower()
    m = _HOST_RE.fullmatch(v)
    return m.group(1) if m else None


def _presented(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(COOKIE)


def _denied(request: Request) -> Response:
    message = "A token is required."
    hint = (
        "Send 'Authorization: Bearer TOKEN', or open the dashboard once with ?token=TOKEN "
        f"(the token is {TOKEN_ENV}, or the one the server printed when it started)."
    )
    if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
        return JSONResponse(
            {"message": message, "hint": hint},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return PlainTextResponse(f"401: {message} {hint}", status_code=401)


def middleware(
    token: str | None, allowed_hosts: frozenset[str] | None
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware: host check, token check, security headers on every response."""

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response
        raw_host = request.headers.get("host", "")
        host = host_of(raw_host)
        if host is None or (allowed_hosts is not None and host not in allowed_hosts):
            response = PlainTextResponse(
                f"400: unexpected Host header {raw_host[:100]!r}. Open the dashboard at "
                "http://127.0.0.1:PORT/ (or bind another address with a token).",
                status_code=400,
            )
        elif token is None:
            response = await call_next(request)
        elif (offered := request.query_params.get("token")) is not None and request.method in (
            "GET",
            "HEAD",
        ):
            if not secrets.compare_digest(offered.encode(), token.encode()):
                response = _denied(request)
            else:
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(
                    COOKIE, token, httponly=True, samesite="strict", path="/", max_age=86_400 * 7
                )
        else:
            got = _presented(request)
            if got is None or not secrets.compare_digest(got.encode(), token.encode()):
                response = _denied(request)
            else:
                response = await call_next(request)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    return guard
