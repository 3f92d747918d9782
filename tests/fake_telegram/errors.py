"""Errors the fake answers with, in the exact shape the Bot API uses.

A failed call is answered with the HTTP status equal to ``error_code`` and the body
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``; aiogram
(``BaseSession.check_response``) and python-telegram-bot (``BaseRequest._request_wrapper``)
pick the exception class from the status and ``parameters.retry_after``.
"""

from __future__ import annotations

from typing import Any

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class TelegramError(Exception):
    """One Bot API error answer."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(detail: str) -> TelegramError:
    """``400 Bad Request: <detail>``."""
    return TelegramError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> TelegramError:
    """``403 Forbidden: <detail>``."""
    return TelegramError(403, f"Forbidden: {detail}")


def not_found() -> TelegramError:
    """Telegram's answer to an unknown method or a malformed token."""
    return TelegramError(404, "Not Found")


def unauthorized() -> TelegramError:
    """Telegram's answer to a well-formed but wrong token."""
    return TelegramError(401, "Unauthorized")


def conflict(detail: str) -> TelegramError:
    """``409 Conflict: <detail>``."""
    return TelegramError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> TelegramError:
    """``429`` with ``parameters.retry_after``, as Telegram's flood control sends it."""
    return TelegramError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def make_error(
    error_code: int,
    description: str | None = None,
    retry_after: int | None = None,
) -> TelegramError:
    """An error for :meth:`FakeTelegram.fail_next`, with Telegram's usual wording by default."""
    if error_code == 429:
        seconds = 1 if retry_after is None else retry_after
        error = too_many_requests(seconds)
        if description is not None:
            error.description = description
        return error
    text = description if description is not None else DEFAULT_DESCRIPTIONS.get(error_code, "Error")
    parameters = {"retry_after": retry_after} if retry_after is not None else None
    return TelegramError(error_code, text, parameters)
