"""Settings: defaults, parsing, validation messages that name the fix, .env, token out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, read_env_file, settings_from_environment
from index import DEFAULT_CACHE_FILE, DEFAULT_MODEL, DEFAULT_TOP_K

TOKEN = "123456:ABC-def_ghi"


def test_defaults_without_any_variable_mean_the_terminal_chat() -> None:
    settings = Settings.from_env({})
    assert settings.token == ""
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", 8443)
    assert settings.data_dir == Path("data")
    assert settings.index_dir == Path("var/index")
    assert settings.embedding_model == DEFAULT_MODEL
    assert settings.embedding_cache == DEFAULT_CACHE_FILE
    assert settings.top_k == DEFAULT_TOP_K
    assert settings.admin_ids == frozenset()
    assert settings.allowed_chat_ids == frozenset()
    assert settings.allow_group_admins is False
    assert (settings.rate_limit_per_minute, settings.max_question_chars) == (20, 500)
    assert settings.log_level == "INFO"
    assert settings.answer_log == Path("var/answers.sqlite")
    assert (settings.feedback_buttons, settings.log_user_ids, settings.log_questions) == (
        True,
        False,
        True,
    )


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot/",
            "WEBHOOK_URL": "https://bot.example.vn/hook",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": "8443",
            "WEBHOOK_SECRET": "s3cret_-x",
            "ADMIN_IDS": " 1, 22 ,333",
            "ALLOW_GROUP_ADMINS": "yes",
            "ALLOWED_CHAT_IDS": "-100123,5",
            "DATA_DIR": "/srv/data",
            "INDEX_DIR": "/srv/index",
            "EMBEDDING_MODEL": "intfloat/multilingual-e5-base",
            "MODEL_CACHE_DIR": "/srv/models",
            "EMBEDDING_CACHE": "/srv/cache.sqlite",
            "TOP_K": "5",
            "RATE_LIMIT_PER_MINUTE": "0",
            "MAX_QUESTION_CHARS": "300",
            "LOG_LEVEL": "debug",
            "ANSWER_LOG": "/srv/answers.sqlite",
            "FEEDBACK_BUTTONS": "off",
            "LOG_USER_IDS": "true",
            "LOG_QUESTIONS": "no",
        }
    )
    assert settings.token == TOKEN
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.webhook_url == "https://bot.example.vn/hook"
    assert settings.admin_ids == {1, 22, 333}
    assert settings.allowed_chat_ids == {-100123, 5}
    assert settings.allow_group_admins is True
    assert settings.data_dir == Path("/srv/data")
    assert settings.model_cache_dir == Path("/srv/models")
    assert (settings.top_k, settings.rate_limit_per_minute, settings.max_question_chars) == (
        5,
        0,
        300,
    )
    assert settings.log_level == "DEBUG"
    assert settings.answer_log == Path("/srv/answers.sqlite")
    assert (settings.feedback_buttons, settings.log_user_ids, settings.log_questions) == (
        False,
        True,
        False,
    )


def test_token_and_webhook_secret_are_kept_out_of_repr() -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "hush_123"})
    assert TOKEN not in repr(settings)
    assert "hush_123" not in repr(settings)
    assert "top_k=3" in repr(settings)
    assert settings.secrets == (TOKEN, "hush_123")
    assert Settings.from_env({}).secrets == ()


@pytest.mark.parametrize(
    ("name", "value", "fix"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "copy it from @BotFather"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081", "must be an http(s) URL"),
        ("WEBHOOK_URL", "http://bot.example.vn/hook", "must be a public https:// URL"),
        ("WEBHOOK_PORT", "99999", "WEBHOOK_PORT='99999' must be a whole number between 1 and"),
        ("WEBHOOK_SECRET", "has spaces", "1-256 characters of A-Z"),
        ("ADMIN_IDS", "12,abc", "not ids: abc"),
        ("ALLOWED_CHAT_IDS", "@group", "comma-separated numeric Telegram ids"),
        ("ALLOW_GROUP_ADMINS", "maybe", "must be true or false"),
        ("FEEDBACK_BUTTONS", "sometimes", "FEEDBACK_BUTTONS='sometimes' must be true or false"),
        ("TOP_K", "three", "TOP_K='three' must be a whole number between 1 and 20"),
        ("TOP_K", "0", "between 1 and 20"),
        ("RATE_LIMIT_PER_MINUTE", "-1", "between 0 and"),
        ("MAX_QUESTION_CHARS", "5", "at least 10"),
        ("LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO"),
    ],
)
def test_invalid_values_are_refused_with_a_fixable_message(
    name: str, value: str, fix: str
) -> None:
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, name: value}
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(environ)
    assert fix in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_all_problems_are_reported_at_once_and_the_token_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "secret token", "TOP_K": "x", "LOG_LEVEL": "?"})
    message = str(raised.value)
    assert message.count("\n- ") == 3
    assert "secret token" not in message


def test_webhook_without_a_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not"):
        Settings.from_env({"WEBHOOK_URL": "https://bot.example.vn/hook"})


def test_env_file_is_parsed_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# settings\n\nexport TELEGRAM_BOT_TOKEN='123:abc'\nTOP_K = 4\nLOG_LEVEL=\"DEBUG\"\n"
        "DATA_DIR=/srv/dữ liệu\n",
        encoding="utf-8",
    )
    assert read_env_file(env_file) == {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TOP_K": "4",
        "LOG_LEVEL": "DEBUG",
        "DATA_DIR": "/srv/dữ liệu",
    }
    monkeypatch.setenv("TOP_K", "7")
    for name in ("LOG_LEVEL", "TELEGRAM_BOT_TOKEN", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_from_environment(env_file)
    assert (settings.top_k, settings.log_level, settings.token) == (7, "DEBUG", "123:abc")
    assert read_env_file(tmp_path / "missing.env") == {}


def test_malformed_env_file_line_names_the_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TOP_K=3\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env:2: expected KEY=VALUE"):
        read_env_file(env_file)
