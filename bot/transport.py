"""HTTP to Telegram that retries what is safe to retry and never sends an answer twice.

- A 5xx answer, a dropped connection (closed before any answer) or a failure before the request
  was written (connect, pool or write error) is retried with exponential backoff.
- A 429 is waited out as long as Telegram says (``retry_after``), up to ``flood_wait_max_s``
  in total for one request.
- A read timeout after the request was written is retried only for methods that are safe to
  repeat (getMe, setMyCommands, ...). For the others (sendMessage, editMessageText, ...) the
  message may have arrived: :class:`DeliveryUnknown` is raised, logged as "delivery unknown",
  and nothing is sent again (no apology either).
- getUpdates is not retried here (the Updater polls again), but an update python-telegram-bot
  cannot parse is replaced by an empty one, so polling moves past it instead of fetching the
  same batch forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

GET_UPDATES = "getUpdates"
# Repeating these changes nothing visible, so even a timeout after writing them is retried.
SAFE_TO_REPEAT = frozenset(
    {
        "getMe",
        "getChat",
        "getChatMember",
        "getMyCommands",
        "getWebhookInfo",
        "setMyCommands",
        "deleteWebhook",
        "setWebhook",
        "sendChatAction",
        "logOut",
        "close",
    }
)
# Raised by httpx before the request reached Telegram, or when the connection was closed
# without any answer (a server dropping a kept-alive connection drops the request with it).
_NOT_DELIVERED = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
)
FLOOD_SLACK_S = 0.1  # waited on top of retry_after, as PTB's AIORateLimiter does


class DeliveryUnknown(TimedOut):
    """The request was written but no answer came in time: it may have reached Telegram."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may be retried.

    Attributes:
        retries: retries after a 5xx or a network failure (the backoff doubles each time).
        backoff_s: wait before the first retry, in seconds.
        max_backoff_s: longest single wait between retries, in seconds.
        flood_wait_max_s: longest total wait on 429s (flood control) for one request.
    """

    retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    flood_wait_max_s: float = 120.0

    def backoff(self, retry: int) -> float:
        """Return the wait in seconds before retry number ``retry`` (1-based)."""
        return min(self.max_backoff_s, self.backoff_s * 2 ** (retry - 1))


class RetryingRequest(HTTPXRequest):
    """PTB's ``HTTPXRequest`` with the retry rules of the module docstring."""

    def __init__(self, policy: RetryPolicy, **kwargs: Any) -> None:
        """Retry by ``policy``; ``kwargs`` go to ``HTTPXRequest`` (timeouts, pool size)."""
        super().__init__(**kwargs)
        self.policy = policy

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request, retrying by the policy; return (HTTP status, body)."""
        api_method = url.rsplit("/", 1)[-1]
        timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        attempt = _Attempt(self.policy, api_method)
        while True:
            try:
                code, payload = await super().do_request(url, method, request_data, *timeouts)
            except (TimedOut, NetworkError) as exc:
                await attempt.after_failure(exc)
                continue
            except Exception as exc:
                if not _loop_running():
                    # PTB closes a pending start-up coroutine when a stop signal arrives; httpx
                    # cannot clean up without a loop. Let the coroutine close, so that PTB's
                    # retry loop does not catch this and try to sleep without a loop.
                    raise GeneratorExit from exc
                raise
            if api_method == GET_UPDATES:
                return code, skip_unparseable(payload)
            if not await attempt.after_answer(code, payload):
                return code, payload


class _Attempt:
    """The retry state of one request: counts, waits, and the log line of each retry."""

    def __init__(self, policy: RetryPolicy, api_method: str) -> None:
        self.policy, self.api_method = policy, api_method
        self.retries = 0
        self.flood_waited_s = 0.0

    async def after_failure(self, exc: TimedOut | NetworkError) -> None:
        """Wait before retrying after ``exc``, or raise it (or DeliveryUnknown) if not allowed."""
        cause = exc.__cause__
        if self.api_method == GET_UPDATES:
            raise exc
        written = not isinstance(cause, _NOT_DELIVERED)
        if written and self.api_method not in SAFE_TO_REPEAT:
            if isinstance(exc, TimedOut):
                raise DeliveryUnknown(f"{self.api_method}: no answer in time; not sent again")
            raise exc
        if not await self._backoff(f"{type(cause or exc).__name__}: {cause or exc}"):
            raise exc

    async def after_answer(self, code: int, payload: bytes) -> bool:
        """Wait and return True if the answer ``code`` should be retried."""
        if code == 429:
            return await self._wait_flood(_retry_after_s(payload))
        if code >= 500:
            return await self._backoff(f"HTTP {code}")
        return False

    async def _backoff(self, what: str) -> bool:
        if self.retries >= self.policy.retries:
            logger.warning("Telegram %s failed (%s); giving up", self.api_method, what)
            return False
        self.retries += 1
        wait_s = self.policy.backoff(self.retries)
        logger.warning(
            "Telegram %s failed (%s); retry %d of %d in %.1f s",
            self.api_method,
            what,
            self.retries,
            self.policy.retries,
            wait_s,
        )
        await asyncio.sleep(wait_s)
        return True

    async def _wait_flood(self, retry_after_s: float) -> bool:
        wait_s = retry_after_s + FLOOD_SLACK_S
        if self.flood_waited_s + wait_s > self.policy.flood_wait_max_s:
            logger.warning(
                "Telegram %s: flood control for over %.0f s; giving up",
                self.api_method,
                self.policy.flood_wait_max_s,
            )
            return False
        self.flood_waited_s += wait_s
        logger.info("Telegram %s: flood control, waiting %.1f s", self.api_method, wait_s)
        await asyncio.sleep(wait_s)
        return True


def skip_unparseable(payload: bytes) -> bytes:
    """Return a getUpdates body where every update PTB cannot parse is reduced to its id.

    PTB parses a batch as a whole; one malformed update would make it fetch the same batch
    forever. Its id is kept so that the Updater confirms it and moves on.
    """
    try:
        body = json.loads(payload)
    except ValueError:  # not JSON: PTB reports it
        return payload
    updates = body.get("result") if isinstance(body, dict) else None
    if not isinstance(updates, list):  # an error answer: PTB reports it
        return payload
    try:
        Update.de_list(updates, None)
    except Exception:  # at least one update PTB cannot parse
        return _repair(body)
    return payload


def _repair(body: dict[str, Any]) -> bytes:
    kept = []
    for update in body["result"]:
        try:
            Update.de_json(update, None)
            kept.append(update)
        except Exception as exc:  # a shape PTB does not know: skip it, once
            update_id = update.get("update_id") if isinstance(update, dict) else None
            logger.warning("update %s cannot be parsed and is skipped: %r", update_id, exc)
            if isinstance(update_id, int):
                kept.append({"update_id": update_id})
    return json.dumps(body | {"result": kept}).encode()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _retry_after_s(payload: bytes) -> float:
    """Return ``parameters.retry_after`` of a 429 answer, in seconds (1 if absent)."""
    try:
        value = json.loads(payload)["parameters"]["retry_after"]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return 1.0
