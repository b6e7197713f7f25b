"""Turning the SDK's exceptions into one clear line (and whether to retry the stream)."""

from __future__ import annotations

import anthropic
import httpx2

from airlock.events import AgentError


class AgentFailure(Exception):
    """The turn cannot go on; carries the event to show."""

    def __init__(self, event: AgentError) -> None:
        super().__init__(event.message)
        self.event = event


class StreamCut(Exception):
    """The response stream ended before `message_stop`."""


def _api_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return str(exc.message)


def _error_type(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("type", ""))
    return ""


def is_retryable_stream_error(exc: BaseException) -> bool:
    """Errors that happen mid-stream and are worth one more try of the same request."""
    if isinstance(exc, StreamCut | httpx2.TransportError):
        return not isinstance(exc, httpx2.TimeoutException)
    if isinstance(exc, anthropic.APITimeoutError):
        return False
    if isinstance(exc, anthropic.APIConnectionError):
        return True
    if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200:
        # An SSE `error` event inside a 200 response (e.g. overloaded mid-stream).
        return _error_type(exc) in {"overloaded_error", "api_error", "rate_limit_error"}
    return False


def describe(exc: BaseException, model: str, base_url: str, retries: int) -> AgentError:
    """One line for the user, with the kind of failure."""
    if isinstance(exc, anthropic.AuthenticationError):
        return AgentError(
            kind="auth",
            message="the Anthropic API rejected the API key (401): check ANTHROPIC_API_KEY",
        )
    if isinstance(exc, anthropic.PermissionDeniedError):
        return AgentError(kind="auth", message=f"permission denied (403): {_api_message(exc)}")
    if isinstance(exc, anthropic.NotFoundError):
        return AgentError(
            kind="bad_request",
            message=f"model {model!r} was not found (404): choose another with --model",
        )
    if isinstance(exc, anthropic.RateLimitError):
        return AgentError(
            kind="rate_limit",
            message=f"rate limited (429), still after {retries} retries: try again later",
        )
    if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529:
        return AgentError(
            kind="overloaded",
            message=f"the API is overloaded (529), still after {retries} retries: try again soon",
        )
    if isinstance(exc, anthropic.BadRequestError):
        return AgentError(kind="bad_request", message=f"request refused (400): {_api_message(exc)}")
    if isinstance(exc, anthropic.APIStatusError):
        code = exc.status_code
        return AgentError(
            kind="server",
            message=f"the API failed ({code} {_error_type(exc) or 'error'}): {_api_message(exc)}",
        )
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return AgentError(kind="timeout", message="the model did not answer in time (timeout)")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError | StreamCut):
        return AgentError(
            kind="connection",
            message=f"lost the connection to the API at {base_url}: {exc or type(exc).__name__}",
        )
    return AgentError(kind="internal", message=f"{type(exc).__name__}: {exc}")
