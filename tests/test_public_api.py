from __future__ import annotations

import index


def test_public_api_is_pinned() -> None:
    assert sorted(index.__all__) == sorted(
        [
            "DEFAULT_ANSWER_LOG",
            "DOWN",
            "MAX_PAGES",
            "UP",
            "VIETNAM",
            "Answer",
            "AnswerLog",
            "AnswerStats",
            "Asking",
            "Gap",
            "LoggedAnswer",
            "Origin",
            "Period",
            "Question",
            "Vote",
            "clean_question",
            "daily",
            "summarize",
            "top_gaps",
            "BUNDLED_MODEL",
            "DEFAULT_CACHE_DIR",
            "DEFAULT_CACHE_FILE",
            "DEFAULT_DATA_DIR",
            "DEFAULT_INDEX_DIR",
            "DEFAULT_MODEL",
            "DEFAULT_TOP_K",
            "Article",
            "BuildProgress",
            "BuildReport",
            "ChildProcessEmbedder",
            "Chunk",
            "DataFormatError",
            "Embedder",
            "EmbeddingCache",
            "Hit",
            "IndexNotBuiltError",
            "Manifest",
            "ModelMismatchError",
            "ModelUnavailableError",
            "ProgressBar",
            "RetrievalError",
            "SearchSettings",
            "Searcher",
            "SentenceTransformerEmbedder",
            "build_index",
            "canonical_text",
            "fold",
            "load_index",
            "load_or_build_index",
            "normalize_text",
        ]
    )
    for name in index.__all__:
        assert hasattr(index, name), name
