"""A fake Telegram Bot API server for offline end-to-end tests (see docs/telegram-testing.md).

`FakeTelegram` is an `aiohttp.web` server on 127.0.0.1 (ephemeral port) running in the test's
own event loop. PTB talks real HTTP to it; tests inject updates, served by genuine long polling,
and assert on the recorded calls::

    @pytest.fixture
    async def fake():
        async with FakeTelegram() as server:  # start() ... stop()
            yield server

    async def test_echo(fake):  # with an Application built on .base_url(fake.base_url)
        user = fake.add_user(111, "An")
        asked = await fake.user_says(fake.private_chat(user), user, "123")
        [call] = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 111)
        assert call.ok and call.params["text"] == "123"

Test-side API: `add_user`, `add_file`, `private_chat`, `group_chat`, `set_member`, `await
user_says` (`sender_chat=` for an anonymous admin or a channel), `await user_sends`, `await
user_captions`, `await user_edits`, `delete_message`, `await migrate_group`, `await
user_types_inline`, `await guest_mention`, `await user_clicks`, `calls`, `calls_of`, `await
wait_for`, `parked_polls`, `base_url`, `base_file_url`, `await start()` / `await stop()`.
Faults: `fail_next` (an error answer, `times=` in a row), `drop_next` (the connection closed
before the call is processed), `delay_next` (processed at once, answered late), `flood` (429s
for a stretch of time); raw updates: `inject_update`, `queued`. A recorded `Call` has
`method`, decoded `params`, `ok`, `result`, `error_code`, `description`, `token`.
In conftest.py also set `NO_PROXY=127.0.0.1,localhost` and the `httpx` logger to WARNING.

Deliberate differences from Telegram: with parse_mode=HTML a bare "&" or an unknown named entity
("&nbsp;") is rejected (Telegram keeps it literally), so unescaped text is caught; only HTML is
parsed (other parse modes are rejected), and <pre><code class="language-x"> gives two entities,
not one `pre` with a language; every injected message reaches the bot (no privacy mode).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON = dict[str, Any]
_log = logging.getLogger(__name__)
MAX_TEXT_UTF16 = 4096


def _names(words: str) -> tuple[str, ...]:
    return tuple(words.split())


CHAT_ACTIONS = _names(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
# Sent raw by PTB; every other form field is JSON-encoded and decoded here.
STRING_FIELDS = _names(
    "text parse_mode action callback_query_id caption url secret_token language_code "
    "inline_message_id ip_address name title description short_description emoji query "
    "first_name last_name custom_title business_connection_id message_effect_id custom_emoji_id "
    "sticker photo document audio video voice animation video_note question explanation payload "
    "inline_query_id guest_query_id"
)
NOT_DEFAULT_UPDATES = _names("chat_member message_reaction message_reaction_count")
ADMIN_RIGHTS = _names(  # with can_be_edited and is_anonymous: the 12 booleans PTB requires
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
    "can_promote_members can_change_info can_invite_users can_post_stories can_edit_stories "
    "can_delete_stories"
)
GIFT_TYPES = _names(
    "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
)
MEMBER_STATUSES = _names("creator administrator member left")
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
# Who sends a message "on behalf of" a chat: an anonymous group admin ("Remain anonymous").
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
MIGRATED = "group chat was upgraded to a supergroup chat"
PHOTO = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
MAX_INLINE_RESULTS = 50
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_TOKEN_RE = re.compile(r"\d+:\S+")
_PATH_RE = re.compile(r"/bot([^/]+)/(\w+)")
_FILE_PATH_RE = re.compile(r"/file/bot([^/]+)/(.+)")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{3,32}(?![A-Za-z0-9_])")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_MARKUP_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)"
    r"\s*>|&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});"
)
_ATTR_RE = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_TAG_ENTITIES = {
    **dict.fromkeys(("b", "strong"), "bold"),
    **dict.fromkeys(("i", "em"), "italic"),
    **dict.fromkeys(("u", "ins"), "underline"),
    **dict.fromkeys(("s", "strike", "del"), "strikethrough"),
    **dict.fromkeys(("span", "tg-spoiler"), "spoiler"),
    **{"code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote"},
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and length limits."""
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """An error answer: HTTP status = error_code, as Telegram does."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> JSON:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        return body | ({"parameters": self.parameters} if self.parameters else {})


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Drop:
    """A fault: the connection is closed before the call is processed (nothing delivered)."""


@dataclass(frozen=True)
class Delay:
    """A fault: the call is processed (delivered) at once, its answer sent `seconds` later."""

    seconds: float


Fault = ApiError | Drop | Delay
DROPPED = "connection dropped by the fake"


@dataclass
class Call:
    """One recorded Bot API call (recorded when it returns)."""

    method: str
    params: JSON
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    token: str = field(default="", repr=False)
    at: float = field(default_factory=time.monotonic, repr=False)

    def summary(self) -> str:
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        params = json.dumps(self.params, ensure_ascii=False, default=repr)
        return f"{self.method} [{outcome}] {params[:300]}"


# ---------------------------------------------------------------- request decoding and HTML


def _decode_field(key: str, value: Any) -> Any:
    if isinstance(value, web.FileField):
        return {"filename": value.filename, "data": value.file.read()}
    if key in STRING_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channelname"


async def _read_params(request: web.Request) -> JSON:
    if request.content_type == "application/json":
        return dict(await request.json()) if await request.read() else {}
    raw: JSON = dict(request.query)
    if request.can_read_body:
        raw.update(await request.post())
    return {key: _decode_field(key, value) for key, value in raw.items()}


def _tag_entity(name: str, attrs: str) -> JSON | None:
    values = {k.lower(): (v or "").strip("\"'") for k, v in _ATTR_RE.findall(attrs)}
    kind = _TAG_ENTITIES[name]
    if name == "span" and values.get("class") != "tg-spoiler":
        raise bad_request('can\'t parse entities: Tag "span" must have class "tg-spoiler"')
    if name == "a":
        return {"type": kind, "url": values["href"]} if values.get("href") else None
    if name == "tg-emoji":
        return {"type": kind, "custom_emoji_id": values.get("emoji-id", "")}
    if name == "blockquote" and "expandable" in values:
        return {"type": "expandable_blockquote"}
    return {"type": kind}


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML: (visible text, entities with UTF-16 offsets), or a 400 ApiError."""
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[tuple[str, int, JSON | None]] = []
    pos = i = 0
    while i < len(text):
        if text[i] not in "<&":
            out.append(text[i])
            pos, i = pos + utf16_len(text[i]), i + 1
            continue
        where = f"at byte offset {len(text[:i].encode())}"
        match = _MARKUP_RE.match(text, i)
        if match is None:
            what = "Unsupported HTML entity" if text[i] == "&" else 'Unexpected "<"'
            raise bad_request(f"can't parse entities: {what} {where}")
        i = match.end()
        if text[match.start()] == "&":
            out.append(html.unescape(match.group(0)))
            pos += utf16_len(out[-1])
            continue
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if not closing:
            if name not in _TAG_ENTITIES:
                raise bad_request(f'can\'t parse entities: Unsupported start tag "{name}" {where}')
            stack.append((name, pos, _tag_entity(name, attrs)))
            continue
        if not stack:
            raise bad_request(f"can't parse entities: Unexpected end tag {where}")
        if stack[-1][0] != name:
            found = f'expected "</{stack[-1][0]}>", found "</{name}>"'
            raise bad_request(f"can't parse entities: Unmatched end tag {where}, {found}")
        _, start, entity = stack.pop()
        if entity and pos > start:
            entities.append({**entity, "offset": start, "length": pos - start})
    if stack:
        tag = stack[-1][0]
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
        )
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_text(params: JSON) -> tuple[str, list[JSON]]:
    text, mode = params.get("text"), str(params.get("parse_mode") or "").lower()
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    if mode == "html":
        plain, entities = parse_html(text)
    elif not mode:
        plain, entities = text, list(params.get("entities") or [])
    else:
        raise bad_request(f"unsupported parse_mode (the fake parses only HTML): {mode}")
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_UTF16:
        raise bad_request("message is too long")
    return plain, entities


def _check_markup(markup: Any) -> None:
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for button in itertools.chain.from_iterable(rows):
        if not 1 <= len(button.get("callback_data", "x").encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")


def _auto_entities(text: str) -> list[JSON]:
    """The `mention`, `url` and leading `bot_command` entities Telegram adds, in UTF-16 units."""
    found = [("mention", m) for m in _MENTION_RE.finditer(text)]
    found += [("url", m) for m in _URL_RE.finditer(text)]
    if command := _COMMAND_RE.match(text):
        found.append(("bot_command", command))
    return [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for kind, m in found
    ]


def _chat_member(status: str, user: JSON) -> JSON:
    member: JSON = {"status": status, "user": user}
    if status == "administrator":
        member |= dict.fromkeys(ADMIN_RIGHTS, True) | {"can_be_edited": False}
    if status in ("administrator", "creator"):
        member["is_anonymous"] = False
    return member


def _without_reply(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


# ---------------------------------------------------------------- the server


class FakeTelegram:
    """Fake Bot API server; serves only what the bot uses and answers 404 to anything else."""

    def __init__(
        self,
        username: str = "rag_test_bot",
        first_name: str = "RAG Test Bot",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = True,
        supports_inline_queries: bool = False,
        supports_guest_queries: bool = False,
    ) -> None:
        self.username, self.first_name = username, first_name
        self.bot_flags = {
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": supports_inline_queries,
            "supports_guest_queries": supports_guest_queries,
        }
        self.calls: list[Call] = []
        self.base_url = self.base_file_url = ""
        self.parked_polls = 0
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._users: dict[Any, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._messages: dict[tuple[Any, Any], JSON] = {}
        self._message_ids: dict[int, Iterator[int]] = {}
        self._update_ids = itertools.count(1)
        self._queue: list[JSON] = []
        self._allowed: frozenset[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""
        self._commands: dict[tuple[str, str], Any] = {}
        self._callback_ids: set[str] = set()
        self._callback_counter = itertools.count(1)
        self._failures: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._floods: dict[str, tuple[float, int]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._migrated: dict[int, int] = {}
        self._inline_ids: set[str] = set()
        self._guest_ids: set[str] = set()
        self._query_counter = itertools.count(1)
        self._methods = {
            name[5:].lower(): (name[5:], getattr(self, name))
            for name in dir(self)
            if name.startswith("_api_")
        }

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._stopping = False
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"

    async def stop(self) -> None:
        """Wake every parked poll (they answer []), then shut the server down."""
        self._stopping = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ test-side API

    def add_user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        is_bot: bool = False,
        language_code: str | None = "vi",
    ) -> JSON:
        user = {"id": id, "is_bot": is_bot, "first_name": first_name}
        user |= {"username": username} if username else {}
        user |= {"language_code": language_code} if language_code and not is_bot else {}
        self._users[id] = user
        return user

    def private_chat(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        chat |= {"username": user["username"]} if user.get("username") else {}
        self._chats[chat["id"]] = chat
        return chat

    def group_chat(
        self,
        chat_id: int,
        title: str,
        type: str = "supergroup",
        is_forum: bool = False,
    ) -> JSON:
        if chat_id >= 0 or type not in ("group", "supergroup"):
            raise ValueError("group chats have negative ids and type 'group' or 'supergroup'")
        chat = {"id": chat_id, "type": type, "title": title} | (
            {"is_forum": True} if is_forum else {}
        )
        self._chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        self._members[(chat_id, user_id)] = status

    def fail_next(
        self,
        method: str,
        code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail (default: flood control, 1 s)."""
        if code == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
            error = ApiError(429, text, {"retry_after": retry_after})
        else:
            error = ApiError(code, description or f"Error {code} injected by the fake")
        self._failures[method.lower()].extend([error] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next `times` calls of `method` before processing them."""
        self._failures[method.lower()].extend([Drop()] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Process the next `times` calls of `method` at once but answer `seconds` later."""
        self._failures[method.lower()].extend([Delay(seconds)] * times)

    def flood(self, method: str, seconds: float, retry_after: int = 1) -> None:
        """Answer every call of `method` with 429 (retry_after) for the next `seconds`."""
        self._floods[method.lower()] = (time.monotonic() + seconds, retry_after)

    @property
    def queued(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (a getUpdates offset past them); mutable."""
        return self._queue

    async def inject_update(self, kind: str, payload: JSON) -> int:
        """Queue a raw update `{kind: payload}` as is (e.g. a malformed one); returns its id."""
        await self._enqueue(kind, payload)
        return int(self._queue[-1]["update_id"])

    async def user_says(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        reply_to: JSON | None = None,
        message_thread_id: int | None = None,
        entities: list[JSON] | None = None,
        sender_chat: JSON | None = None,
    ) -> JSON:
        """Inject a text message; `mention`/`bot_command` entities are added as Telegram does.

        With `sender_chat` the message is sent on behalf of that chat (the group itself for an
        anonymous admin): `from` is then GroupAnonymousBot, as in Telegram.
        """
        found = sorted(_auto_entities(text) + list(entities or []), key=lambda e: e["offset"])
        fields: JSON = {"text": text} | ({"entities": found} if found else {})
        if sender_chat is not None:
            fields["sender_chat"] = sender_chat
            user = GROUP_ANONYMOUS_BOT
        return await self.user_sends(chat, user, reply_to, message_thread_id, **fields)

    async def user_sends(
        self,
        chat: JSON,
        user: JSON,
        reply_to: JSON | None = None,
        message_thread_id: int | None = None,
        **fields: Any,
    ) -> JSON:
        """Inject any message (sticker=..., photo=[...], voice=...); returns the Message dict."""
        if chat["id"] not in self._chats:
            raise AssertionError(f"chat {chat['id']} was not created with private/group_chat")
        thread = {"message_thread_id": message_thread_id} if message_thread_id else {}
        if reply_to is not None:
            key = (reply_to["chat"]["id"], reply_to["message_id"])
            fields["reply_to_message"] = _without_reply(self._messages.get(key, reply_to))
        message = self._new_message(chat, user, **thread, **fields)
        await self._enqueue("message", message)
        return message

    async def user_clicks(self, user: JSON, bot_message: JSON, data: str) -> str:
        """Press the inline button carrying `data`; returns the callback query id."""
        key = (bot_message["chat"]["id"], bot_message["message_id"])
        message = self._messages.get(key, bot_message)
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if data not in {b.get("callback_data") for b in itertools.chain.from_iterable(rows)}:
            raise AssertionError(f"no button with callback_data {data!r} on message {key}")
        query_id = f"cbq-{next(self._callback_counter)}"
        self._callback_ids.add(query_id)
        query = {"id": query_id, "from": user, "chat_instance": f"ci{key[0]}", "data": data}
        await self._enqueue("callback_query", query | {"message": dict(message)})
        return query_id

    def calls_of(self, method: str, pred: Callable[[Call], Any] | None = None) -> list[Call]:
        """Recorded calls of `method` matching `pred` (a LookupError in `pred` means no match)."""
        return [c for c in self.calls if c.method == method and _matches(pred, c)]

    async def wait_for(
        self,
        method: str,
        pred: Callable[[Call], Any] | None = None,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109 - the documented test-side API
    ) -> list[Call]:
        """Wait for >= `count` matching calls; on timeout, AssertionError with recent calls."""
        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(lambda: len(self.calls_of(method, pred)) >= count)
        except TimeoutError:
            recent = "\n  ".join(c.summary() for c in self.calls[-20:]) or "(none)"
            found = len(self.calls_of(method, pred))
            summary = f"{found}/{count} matching {method} calls after {timeout}s"
            raise AssertionError(f"{summary}; recent calls:\n  {recent}") from None
        return self.calls_of(method, pred)

    async def user_captions(
        self,
        chat: JSON,
        user: JSON,
        caption: str,
        reply_to: JSON | None = None,
        **media: Any,
    ) -> JSON:
        """Inject a photo (or `document=`, `video=` ...) with `caption` and its entities."""
        found = _auto_entities(caption)
        fields: JSON = (media or {"photo": PHOTO}) | {"caption": caption}
        fields |= {"caption_entities": found} if found else {}
        return await self.user_sends(chat, user, reply_to, **fields)

    async def user_edits(self, message: JSON, text: str) -> JSON:
        """Edit a user's message to `text` (its caption, for media); inject `edited_message`."""
        key = (message["chat"]["id"], message["message_id"])
        stored = self._messages.get(key, message)
        field, entities_field = (
            ("caption", "caption_entities") if "caption" in stored else ("text", "entities")
        )
        edited = {k: v for k, v in stored.items() if k != entities_field}
        edited |= {field: text, "edit_date": int(time.time())}
        found = _auto_entities(text)
        edited |= {entities_field: found} if found else {}
        self._messages[key] = edited
        await self._enqueue("edited_message", edited)
        return edited

    def delete_message(self, message: JSON) -> None:
        """Delete a message, as a moderator would: replies to it then fail as in Telegram."""
        self._messages.pop((message["chat"]["id"], message["message_id"]), None)

    async def migrate_group(self, group: JSON, user: JSON, new_id: int) -> JSON:
        """Upgrade a basic group to supergroup `new_id`: both service messages, as Telegram.

        Sends to the old id then fail with "group chat was upgraded to a supergroup chat".
        """
        if group.get("type") != "group":
            raise ValueError("only a basic group ('type': 'group') is upgraded")
        supergroup = self.group_chat(new_id, group["title"], "supergroup")
        self._migrated[group["id"]] = new_id
        await self.user_sends(group, user, migrate_to_chat_id=new_id)
        await self.user_sends(supergroup, user, migrate_from_chat_id=group["id"])
        return supergroup

    async def user_types_inline(self, user: JSON, query: str, chat_type: str = "sender") -> str:
        """Type `@bot query` in a chat: inject an `inline_query`; returns its id."""
        query_id = f"iq-{next(self._query_counter)}"
        self._inline_ids.add(query_id)
        inline = {"id": query_id, "from": user, "query": query, "offset": ""}
        await self._enqueue("inline_query", inline | {"chat_type": chat_type})
        return query_id

    async def guest_mention(self, chat: JSON, user: JSON, text: str) -> JSON:
        """@mention the bot in a chat it is not a member of: inject a `guest_message`.

        The chat is not registered: the bot cannot send to it, only `answerGuestQuery`.
        """
        query_id = f"gq-{next(self._query_counter)}"
        self._guest_ids.add(query_id)
        found = _auto_entities(text)
        message: JSON = {
            "message_id": next(self._message_ids.setdefault(chat["id"], itertools.count(1))),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
            "guest_query_id": query_id,
        } | ({"entities": found} if found else {})
        await self._enqueue("guest_message", message)
        return message

    # ------------------------------------------------------------ plumbing

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _enqueue(self, kind: str, payload: JSON) -> None:
        self._queue.append({"update_id": next(self._update_ids), kind: payload})
        await self._notify()

    def _new_message(self, chat: JSON, sender: JSON, **fields: Any) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids.setdefault(chat["id"], itertools.count(1))),
            "date": int(time.time()),
        }
        message |= {"chat": chat, "from": sender, **fields}
        if chat.get("is_forum") and "message_thread_id" in fields:
            message["is_topic_message"] = True
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _bot_user(self, token: str) -> JSON:
        user_id = int(token.split(":", 1)[0])
        return {
            "id": user_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _chat(self, chat_id: Any) -> JSON:
        for chat in self._chats.values():
            if str(chat_id) in (str(chat["id"]), f"@{chat.get('username', '')}"):
                return chat
        raise bad_request("chat not found")

    def _deliverable(self) -> list[JSON]:
        def wanted(update: JSON) -> bool:
            kind = next(key for key in update if key != "update_id")
            return kind in self._allowed if self._allowed else kind not in NOT_DEFAULT_UPDATES

        return [update for update in self._queue if wanted(update)]

    def add_file(self, content: bytes, file_name: str, mime_type: str = "text/plain") -> JSON:
        """Store a file users can send; returns the Document dict to put in `user_sends`."""
        number = len(self._files) + 1
        file_id = f"doc-{number}"
        self._files[file_id] = (f"documents/file_{number}{_suffix(file_name)}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"u-doc-{number}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }

    async def _serve_file(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the download URL that getFile points to."""
        path = _FILE_PATH_RE.fullmatch(request.path)
        by_path = {file_path: content for file_path, content in self._files.values()}
        if path is None or path.group(2) not in by_path or not _TOKEN_RE.fullmatch(path.group(1)):
            return web.Response(status=404, text="Not Found")
        self.calls.append(Call("download", {"file_path": path.group(2)}, True))
        await self._notify()
        return web.Response(body=by_path[path.group(2)])

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/file/"):
            return await self._serve_file(request)
        params = await _read_params(request)
        path = _PATH_RE.fullmatch(request.path)
        token, name = path.groups() if path else ("", request.path)
        method, handler = self._methods.get(name.lower(), (name, None))
        fault = self._next_fault(method)
        if isinstance(fault, Drop):
            return await self._drop(request, Call(method, params, False, None, None, DROPPED))
        try:
            result = await self._answer(method, handler, token, params, fault)
            call, body = Call(method, params, True, result), {"ok": True, "result": result}
        except ApiError as error:
            call = Call(method, params, False, None, error.code, error.description)
            body = error.body()
        call.token = token
        self.calls.append(call)
        await self._notify()
        if isinstance(fault, Delay):
            await asyncio.sleep(fault.seconds)
        return web.json_response(body, status=call.error_code or 200)

    def _next_fault(self, method: str) -> Fault | None:
        key = method.lower()
        until, retry_after = self._floods.get(key, (0.0, 0))
        if time.monotonic() < until:
            text = f"Too Many Requests: retry after {retry_after}"
            return ApiError(429, text, {"retry_after": retry_after})
        return self._failures[key].popleft() if self._failures[key] else None

    async def _drop(self, request: web.Request, call: Call) -> web.StreamResponse:
        self.calls.append(call)
        await self._notify()
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)  # never reaches the client: the connection is gone

    async def _answer(
        self, method: str, handler: Any, token: str, params: JSON, fault: Fault | None = None
    ) -> Any:
        if handler is None or not _TOKEN_RE.fullmatch(token):
            raise ApiError(404, "Not Found")
        if isinstance(fault, ApiError):
            raise fault
        try:
            return await handler(params, self._bot_user(token))
        except ApiError:
            raise
        except Exception as crash:  # input the fake cannot handle, or a bug in it: say so loudly
            _log.exception("the fake Bot API crashed on %s", method)
            raise ApiError(500, f"Internal Server Error: fake crashed: {crash!r}") from crash

    # ------------------------------------------------------------ Bot API methods

    async def _api_getMe(self, p: JSON, bot: JSON) -> JSON:
        return bot | self.bot_flags

    async def _api_deleteWebhook(self, p: JSON, bot: JSON) -> bool:
        self._webhook_url = ""
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _api_setWebhook(self, p: JSON, bot: JSON) -> bool:
        self._webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _api_getWebhookInfo(self, p: JSON, bot: JSON) -> JSON:
        pending = len(self._queue)
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }

    async def _api_getUpdates(self, p: JSON, bot: JSON) -> list[JSON]:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self._poll_generation += 1
        generation, offset = self._poll_generation, int(p.get("offset") or 0)
        if p.get("allowed_updates") is not None:
            self._allowed = frozenset(p["allowed_updates"]) or None
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        await self._park(generation, float(p.get("timeout") or 0))
        if generation != self._poll_generation:
            raise ApiError(409, POLL_CONFLICT)
        limit = max(1, min(100, int(p.get("limit") or 100)))
        return [] if self._stopping else self._deliverable()[:limit]

    async def _park(self, generation: int, timeout_s: float) -> None:
        """End an older parked poll, then wait for an update, a newer poll, stop() or timeout."""

        def done() -> bool:
            newer = generation != self._poll_generation
            return self._stopping or newer or bool(self._deliverable())

        async with self._cond:
            self._cond.notify_all()
            if timeout_s <= 0:
                return
            self.parked_polls += 1
            try:
                async with asyncio.timeout(timeout_s):
                    await self._cond.wait_for(done)
            except TimeoutError:
                pass
            finally:
                self.parked_polls -= 1

    async def _api_setMyCommands(self, p: JSON, bot: JSON) -> bool:
        commands = p.get("commands")
        for command in commands if isinstance(commands, list) else [{}]:
            description = command.get("description", "")
            if (
                not _COMMAND_NAME_RE.fullmatch(command.get("command", ""))
                or not 1 <= len(description) <= 256
            ):
                raise bad_request("BOT_COMMAND_INVALID")
        self._commands[self._commands_key(p)] = commands
        return True

    async def _api_getMyCommands(self, p: JSON, bot: JSON) -> list[JSON]:
        return self._commands.get(self._commands_key(p), [])

    @staticmethod
    def _commands_key(p: JSON) -> tuple[str, str]:
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        return scope, str(p.get("language_code") or "")

    async def _api_sendChatAction(self, p: JSON, bot: JSON) -> bool:
        self._chat(p.get("chat_id"))
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _api_sendMessage(self, p: JSON, bot: JSON) -> JSON:
        chat = self._chat(p.get("chat_id"))
        if chat["id"] in self._migrated:
            raise ApiError(
                400, f"Bad Request: {MIGRATED}", {"migrate_to_chat_id": self._migrated[chat["id"]]}
            )
        text, entities = _parse_text(p)
        _check_markup(p.get("reply_markup"))
        fields: JSON = {"text": text} | ({"entities": entities} if entities else {})
        fields |= {k: p[k] for k in ("message_thread_id", "reply_markup") if k in p}
        reply = p.get("reply_parameters") or {}
        if "message_id" in reply:
            target = self._messages.get((reply.get("chat_id", chat["id"]), reply["message_id"]))
            if target is not None:
                fields["reply_to_message"] = _without_reply(target)
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        return self._new_message(chat, bot, **fields)

    async def _api_editMessageText(self, p: JSON, bot: JSON) -> JSON:
        if "inline_message_id" in p:
            raise bad_request("the fake does not serve inline messages")
        message = self._messages.get((self._chat(p.get("chat_id"))["id"], p.get("message_id")))
        if message is None or message["from"]["id"] != bot["id"]:
            raise bad_request("message to edit not found")
        text, entities = _parse_text(p)
        _check_markup(p.get("reply_markup"))
        markup = p.get("reply_markup")
        if (text, entities, markup) == (
            message.get("text"),
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise bad_request(NOT_MODIFIED)
        edited = {k: v for k, v in message.items() if k not in ("entities", "reply_markup")}
        edited |= {"text": text, "edit_date": int(time.time())}
        edited |= ({"entities": entities} if entities else {}) | (
            {"reply_markup": markup} if markup else {}
        )
        self._messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    async def _api_answerCallbackQuery(self, p: JSON, bot: JSON) -> bool:
        if p.get("callback_query_id") not in self._callback_ids:
            raise bad_request(QUERY_INVALID)
        self._callback_ids.discard(p["callback_query_id"])
        return True

    async def _api_getChatMember(self, p: JSON, bot: JSON) -> JSON:
        chat = self._chat(p.get("chat_id"))
        user = bot if p.get("user_id") == bot["id"] else self._users.get(p.get("user_id"))
        if user is None:
            raise bad_request("user not found")
        default = "administrator" if user is bot else "member"
        return _chat_member(self._members.get((chat["id"], user["id"]), default), user)

    async def _api_getChat(self, p: JSON, bot: JSON) -> JSON:
        gifts = dict.fromkeys(GIFT_TYPES, False)
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return self._chat(p.get("chat_id")) | extra

    async def _api_getFile(self, p: JSON, bot: JSON) -> JSON:
        file_id = str(p.get("file_id") or "")
        if file_id not in self._files:
            raise bad_request("invalid file_id")
        file_path, content = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": file_path,
        }

    async def _api_deleteMessage(self, p: JSON, bot: JSON) -> bool:
        key = (self._chat(p.get("chat_id"))["id"], p.get("message_id"))
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _api_editMessageReplyMarkup(self, p: JSON, bot: JSON) -> JSON:
        message = self._messages.get((self._chat(p.get("chat_id"))["id"], p.get("message_id")))
        if message is None or message["from"]["id"] != bot["id"]:
            raise bad_request("message to edit not found")
        markup = p.get("reply_markup")
        _check_markup(markup)
        if markup == message.get("reply_markup"):
            raise bad_request(NOT_MODIFIED)
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        edited |= {"edit_date": int(time.time())} | ({"reply_markup": markup} if markup else {})
        self._messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    async def _api_answerInlineQuery(self, p: JSON, bot: JSON) -> bool:
        if p.get("inline_query_id") not in self._inline_ids:
            raise bad_request(QUERY_INVALID)
        results = p.get("results")
        if not isinstance(results, list) or len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [_check_inline_result(result) for result in results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        self._inline_ids.discard(p["inline_query_id"])
        return True

    async def _api_answerGuestQuery(self, p: JSON, bot: JSON) -> JSON:
        if p.get("guest_query_id") not in self._guest_ids:
            raise bad_request(QUERY_INVALID)
        result = p.get("result")
        if not isinstance(result, dict):
            raise bad_request("result must be one InlineQueryResult")
        _check_inline_result(result)
        self._guest_ids.discard(p["guest_query_id"])
        return {"inline_message_id": f"im-{p['guest_query_id']}"}


def _check_inline_result(result: Any) -> str:
    """Validate one InlineQueryResultArticle as Telegram does; return its id."""
    if not isinstance(result, dict) or result.get("type") != "article":
        raise bad_request("the fake serves only InlineQueryResultArticle")
    if not 1 <= len(str(result.get("id", "")).encode()) <= 64:
        raise bad_request("RESULT_ID_INVALID")
    if not str(result.get("title", "")).strip():
        raise bad_request("RESULT_TITLE_EMPTY")
    content = result.get("input_message_content") or {}
    _parse_text({"text": content.get("message_text"), "parse_mode": content.get("parse_mode")})
    _check_markup(result.get("reply_markup"))
    return str(result["id"])


def _suffix(file_name: str) -> str:
    dot = file_name.rfind(".")
    return file_name[dot:] if dot > 0 else ""


def _matches(pred: Callable[[Call], Any] | None, call: Call) -> bool:
    try:
        return pred is None or bool(pred(call))
    except LookupError:
        return False
