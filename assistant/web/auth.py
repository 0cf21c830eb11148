"""Who may reach the page: loopback binding, password and a login rate limit."""

from __future__ import annotations

import ipaddress
import threading
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import ConfigError

if TYPE_CHECKING:

    pass


# --------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """127.x, ::1 and localhost are loopback; anything else is reachable from outside."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(settings: Settings) -> tuple[str, str] | None:
    """The auth pair gradio needs, or None on loopback; ConfigError when credentials lack."""
    if is_loopback(settings.host):
        return None
    password = settings.password.get_secret_value() if settings.password else ""
    if not settings.username or not password:
        raise ConfigError(
            f"Refusing to serve on {settings.host} without a login: anyone who can reach this "
            "machine could use the page. Set ASSISTANT_USERNAME and ASSISTANT_PASSWORD, or bind "
            "to 127.0.0.1 (the default)."
        )
    return settings.username, password


class LoginLimiter:
    """ASGI middleware: at most ``per_minute`` login attempts per client address a minute.

    Gradio's login form posts to ``…/login``; further attempts within the minute get
    HTTP 429 with a one-line reason, whatever the password.
    """

    def __init__(self, app: Any, per_minute: int = 10) -> None:
        self.app = app
        self.per_minute = per_minute
        self.attempts: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str, now: float) -> bool:
        with self.lock:
            recent = [t for t in self.attempts.get(client, []) if now - t < 60.0]
            ok = len(recent) < self.per_minute
            if ok:
                recent.append(now)
            self.attempts[client] = recent
            if len(self.attempts) > 10_000:  # forget idle clients
                self.attempts = {c: v for c, v in self.attempts.items() if v}
            return ok

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import time

        if (scope.get("type") == "http" and scope.get("method") == "POST"
                and str(scope.get("path", "")).rstrip("/").endswith("/login")):
            client = (scope.get("client") or ("?", 0))[0]
            if not self.allow(str(client), time.monotonic()):
                body = (b"Too many login attempts from this address; wait a minute and try "
                        b"again.")
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"retry-after", b"60")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def login_limit_kwargs(settings: Settings) -> dict[str, Any]:
    """FastAPI arguments that put ``LoginLimiter`` in front of gradio's login route."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(LoginLimiter,
                                      per_minute=settings.login_attempts_per_minute)]}
