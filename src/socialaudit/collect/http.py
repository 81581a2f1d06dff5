"""The one HTTP helper every collector goes through: rate limits, retries, backoff.

Platforms announce their limits in headers with different names and units:

- Mastodon: ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (an ISO 8601 time);
- Bluesky: ``RateLimit-Remaining`` / ``RateLimit-Reset`` (epoch seconds);
- Reddit: ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset`` (seconds from now);
- X: ``x-rate-limit-remaining`` / ``x-rate-limit-reset`` (epoch seconds);
- anyone: ``Retry-After`` (seconds or an HTTP date).

A reset value is read by its shape (a date, a large epoch number or a small delay), so one
parser serves all. When a response says nothing is left, the next request waits for the
reset instead of spending a 429. A 429 waits for the reset (or backs off when none is
given); a 5xx, a network error or a cut-off JSON body backs off exponentially with jitter.
Every wait is logged with its reason; headers (which hold credentials) never are.
Sleeping and the clock are injectable, so tests replay hours of rate limiting in
milliseconds.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from socialaudit.errors import CollectError, CredentialError

REMAINING = ("x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining")
RESET = ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset")
USER_AGENT = "socialaudit/0.1 (+https://github.com/socialaudit; research collector)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: retries per request, backoff base and caps (seconds)."""

    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    #: Longest a rate-limit reset is waited for (X's windows are 15 minutes).
    max_reset_wait: float = 900.0


@dataclass
class Response:
    """A decoded JSON response with the headers collectors page with (``Link``)."""

    data: Any
    links: dict[str, str] = field(default_factory=dict)
    url: str = ""


def reset_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the announced reset (``Retry-After`` first), None when none is given."""
    retry_after = headers.get("retry-after")
    if retry_after:
        return _delay(retry_after, now)
    for name in RESET:
        if name in headers:
            return _delay(headers[name], now)
    return None


def _delay(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        # Epoch seconds are large; a delay is small (Reddit: seconds left in the window).
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        try:
            stamp = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
    return max(0.0, stamp - now)


def remaining(headers: Mapping[str, str]) -> float | None:
    """Requests left in the current window, when the platform says."""
    for name in REMAINING:
        if name in headers:
            try:
                return float(headers[name])
            except ValueError:
                return None
    return None


class Client:
    """GET JSON with rate-limit pacing and retries; one per collection run."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        log: Callable[[str], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=timeout,
            follow_redirects=True,
        )
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.log = log or (lambda message: None)
        self._wait_until = 0.0
        self.requests = 0
        #: Called once when a request is refused for an expired session; it renews the
        #: token (``set_header``) and the request is retried. Set by collectors that log in.
        self.refresh: Callable[[], None] | None = None
        #: What to fix when credentials are refused (named in the error), e.g. the variable.
        self.credential_hint: str | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_header(self, name: str, value: str) -> None:
        """Set a header on every later request (a token obtained at run time)."""
        self.http.headers[name] = value

    def _pause(self, seconds: float, why: str) -> None:
        if seconds > 0:
            self.log(f"Waiting {seconds:.1f} s: {why}.")
            self.sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.max_delay, self.policy.base_delay * 2**attempt)
        return base / 2 + base / 2 * self.jitter()  # "equal jitter": never zero, never above base

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Fetch ``path`` and decode JSON, waiting and retrying as the platform asks.

        Raises
        ------
        CollectError
            A 4xx other than 429 (with what to check), or retries exhausted.
        """
        query = {k: v for k, v in (params or {}).items() if v is not None}
        last = ""
        refreshed = False
        for attempt in range(self.policy.max_retries + 1):
            ahead = self._wait_until - self.clock()
            if ahead > 0:
                self._pause(min(ahead, self.policy.max_reset_wait), "rate limit reached")
            self.requests += 1
            try:
                resp = self.http.request(
                    method,
                    path,
                    params=query,
                    data=data,
                    auth=auth,
                    json=json_body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                last = f"network error ({type(exc).__name__})"
                self._pause(self._backoff(attempt), last)
                continue
            now = self.clock()
            if resp.status_code == 429:
                last = "HTTP 429 (rate limited)"
                wait = reset_wait(resp.headers, now)
                if wait is None:
                    wait = self._backoff(attempt)
                else:
                    wait = min(wait, self.policy.max_reset_wait) + self.jitter()
                self._pause(wait, f"{last}, until the announced reset")
                continue
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code} from the server"
                self._pause(self._backoff(attempt), last)
                continue
            if resp.status_code >= 400:
                url = str(resp.url.copy_with(query=None))
                if _expired(resp) and self.refresh is not None and not refreshed:
                    refreshed = True
                    self.log(f"Renewing the session: {url} answered that it expired.")
                    self.refresh()
                    continue
                if resp.status_code == 401 or _expired(resp):
                    fix = self.credential_hint or "the environment variables or config file"
                    raise CredentialError(
                        f"HTTP {resp.status_code} for {url}: the credentials were refused "
                        f"({_error_code(resp) or 'unauthorized'}). Check {fix}."
                    )
                raise CollectError(_client_error(resp.status_code, url))
            try:
                data = json.loads(resp.content)
            except ValueError:
                last = "a cut-off or invalid JSON body"
                self._pause(self._backoff(attempt), last)
                continue
            left = remaining(resp.headers)
            if left is not None and left <= 0:
                wait = reset_wait(resp.headers, now)
                if wait:
                    self._wait_until = now + wait
            links = {str(rel): str(link.get("url")) for rel, link in resp.links.items() if rel}
            return Response(data=data, links=links, url=str(resp.url))
        raise CollectError(
            f"Gave up on {path} after {self.policy.max_retries + 1} attempts (last: {last}). "
            "What was collected so far is stored; run the same command again to resume."
        )


def _error_code(resp: httpx.Response) -> str:
    """The machine-readable error a platform put in a 4xx body (AT Protocol: ``error``)."""
    try:
        body = json.loads(resp.content)
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def _expired(resp: httpx.Response) -> bool:
    """An expired or revoked access token: AT Protocol answers 400 ExpiredToken, others 401."""
    if resp.status_code == 401:
        return True
    return resp.status_code == 400 and _error_code(resp) in ("ExpiredToken", "InvalidToken")


def _client_error(status: int, url: str) -> str:
    hints = {
        400: "The request was refused as malformed; check the account or query given.",
        401: "Credentials were refused; check the environment variables or config file.",
        403: "Access is forbidden; the account may be private or the app lacks access.",
        404: "Not found; check the account name or instance.",
        410: "Gone; the account or post was deleted.",
    }
    return f"HTTP {status} for {url}. " + hints.get(status, "Check the target and try again.")
