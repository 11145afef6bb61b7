"""The answer log: versioned schema, privacy switches, votes, migrations, and its figures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index import (
    DOWN,
    UP,
    AnswerLog,
    Asking,
    Origin,
    Searcher,
    daily,
    summarize,
    top_gaps,
)
from index.answerlog import MIGRATIONS, migrate

PHO = "phở bò Hà Nội"


def record(log: AnswerLog, question: str = PHO, found: bool = True, **ids: int) -> int:
    return log.record(
        via="chat",
        chat_type="private",
        question=question,
        chunk_ids=["a#1"] if found else [],
        index_built_at="2025-01-01T00:00:00+00:00",
        **ids,
    )


def set_time(log: AnswerLog, answer_id: int, when: str) -> None:
    log._db.execute("UPDATE answers SET asked_at = ? WHERE id = ?", (when, answer_id))
    log._db.commit()


def test_a_new_log_has_every_migration_and_reopening_applies_none(tmp_path: Path) -> None:
    log = AnswerLog(tmp_path / "answers.sqlite")
    assert log.applied == [name for name, _ in MIGRATIONS]
    answer_id = record(log)
    log.close()
    again = AnswerLog(tmp_path / "answers.sqlite")
    assert again.applied == []
    found = again.find(answer_id)
    assert found is not None
    assert (found.question, found.chunk_ids, found.found) == (PHO, ("a#1",), True)


def test_an_old_log_is_upgraded_in_place_keeping_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "answers.sqlite"
    db = sqlite3.connect(path)
    first_name, first_step = MIGRATIONS[0]
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    first_step(db)
    db.execute("INSERT INTO _migrations VALUES (?, 'then')", (first_name,))
    db.execute(
        "INSERT INTO answers (asked_at, via, chat_type, question, question_key, chunk_ids, found,"
        " index_built_at) VALUES ('2024-01-01T00:00:00+00:00', 'chat', 'group', 'cũ', 'cu',"
        " '[]', 0, 'x')"
    )
    db.commit()
    db.close()
    log = AnswerLog(path)
    assert log.applied == [name for name, _ in MIGRATIONS[1:]]
    assert log.find(1) is not None
    assert log.vote(1, 5, UP).up == 1  # the new tables work
    assert migrate(log._db) == []


def test_ids_are_kept_only_with_log_user_ids_and_questions_unless_turned_off(
    tmp_path: Path,
) -> None:
    private = AnswerLog(tmp_path / "a.sqlite")
    record(private, chat_id=-100, user_id=7)
    assert private.query("SELECT chat_id, user_id, question FROM answers") == [(None, None, PHO)]
    named = AnswerLog(tmp_path / "b.sqlite", log_user_ids=True, log_questions=False)
    answer_id = record(named, chat_id=-100, user_id=7)
    assert named.query("SELECT chat_id, user_id, question FROM answers") == [(-100, 7, None)]
    found = named.find(answer_id)
    assert found is not None
    assert found.question is None


def test_one_vote_per_user_and_answer_changeable_and_voters_not_named(tmp_path: Path) -> None:
    log = AnswerLog(tmp_path / "answers.sqlite")
    answer_id = record(log)
    first = log.vote(answer_id, 7, UP)
    assert (first.counted, first.up, first.down) == (True, 1, 0)
    log.vote(answer_id, 8, UP)
    repeated = log.vote(answer_id, 7, UP)
    assert (repeated.counted, repeated.up, repeated.down) == (False, 2, 0)
    changed = log.vote(answer_id, 7, DOWN)
    assert (changed.counted, changed.up, changed.down) == (True, 1, 1)
    voters = [voter for (voter,) in log.query("SELECT voter FROM votes")]
    assert "7" not in voters
    assert "8" not in voters
    with pytest.raises(ValueError, match="a vote is 1 or -1"):
        log.vote(answer_id, 7, 0)


def test_chat_migrations_are_remembered(tmp_path: Path) -> None:
    log = AnswerLog(tmp_path / "answers.sqlite")
    log.note_migration(-555, -100555)
    log.close()
    assert AnswerLog(tmp_path / "answers.sqlite").migrated_chats() == {-100555: -555}


def test_figures_count_vietnam_days_answered_share_votes_and_gaps(tmp_path: Path) -> None:
    log = AnswerLog(tmp_path / "answers.sqlite")
    now = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
    today = record(log)
    set_time(log, today, "2025-03-09T18:00:00+00:00")  # 01:00 on the 10th in Vietnam
    yesterday = record(log, "Giá vé máy bay?", found=False)
    set_time(log, yesterday, "2025-03-09T16:59:00+00:00")  # 23:59 on the 9th in Vietnam
    for when in ("2025-03-08T00:00:00+00:00", "2025-03-01T00:00:00+00:00"):
        set_time(log, record(log, "gia ve may bay?", found=False), when)
    log.vote(today, 1, UP)
    log.vote(yesterday, 1, DOWN)
    figures = summarize(log, days=7, now=now)
    assert figures.today == 1
    period = figures.period
    assert (period.questions, period.answered, period.not_found) == (3, 1, 2)
    assert (period.thumbs_up, period.thumbs_down) == (1, 1)
    [gap] = figures.gaps
    assert gap.asked == 2  # "Giá vé máy bay?" and "gia ve may bay?" are one question
    assert [p.questions for _, p in daily(log, 3, now)] == [1, 1, 1]
    assert [d.isoformat() for d, _ in daily(log, 2, now)] == ["2025-03-09", "2025-03-10"]
    assert top_gaps(log, 30, now)[0].asked == 3


def test_asking_logs_answers_but_not_empty_questions_or_inline_lookups(
    tmp_path: Path, searcher: Searcher
) -> None:
    log = AnswerLog(tmp_path / "answers.sqlite")
    asking = Asking(log, top_k=2, max_question_chars=500)
    answer = asking.ask(searcher, " phở bò  Hà Nội ", Origin("chat", "group", -100, 7))
    assert answer.found
    assert answer.answer_id is not None
    logged = log.find(answer.answer_id)
    assert logged is not None
    assert (logged.question, logged.chat_type, logged.via) == (PHO, "group", "chat")
    assert logged.chunk_ids == tuple(hit.chunk.chunk_id for hit in answer.hits)
    assert logged.index_built_at == searcher.manifest.built_at
    assert asking.ask(searcher, "   ").answer_id is None
    assert asking.find(searcher, "phở bò").answer_id is None
    assert log.query("SELECT COUNT(*) FROM answers") == [(1,)]
    recalled = asking.recall(searcher, answer.answer_id)
    assert recalled is not None
    assert recalled.hits == answer.hits
    assert asking.recall(searcher, 999) is None
