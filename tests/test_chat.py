"""Chat abbreviations in questions are written out; ambiguous ones are left alone."""

from __future__ import annotations

from index import Searcher
from index.chat import write_out


def test_chat_abbreviations_are_written_out() -> None:
    assert write_out("lũ ninh thuận gà vịt chết bn") == "lũ ninh thuận gà vịt chết bao nhiêu"
    assert write_out("có đc bồi thường ko?") == "có được bồi thường không?"
    assert write_out("Học phí năm nay ntn") == "Học phí năm nay như thế nào"


def test_ambiguous_abbreviations_stay_as_typed() -> None:
    assert write_out("BN 91 điều trị ở đâu?") == "BN 91 điều trị ở đâu?"
    assert write_out("Bệnh viện K ở đâu?") == "Bệnh viện K ở đâu?"
    assert write_out("Washington DC có gì?") == "Washington DC có gì?"
    assert write_out("giá 50k một kg") == "giá 50k một kg"


def test_a_question_typed_as_chat_finds_what_the_full_words_find(searcher: Searcher) -> None:
    full = searcher.search("Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu")[0]
    chat = searcher.search("Giá trị xuất khẩu của Phổ Yên năm 2023 là bn")[0]
    assert chat.chunk.chunk_id == full.chunk.chunk_id
    assert chat.confidence == full.confidence
    assert searcher.dense_text("xuat khau Pho Yen ntn") == searcher.dense_text(
        "xuat khau Pho Yen nhu the nao"
    )
