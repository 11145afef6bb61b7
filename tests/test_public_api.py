from __future__ import annotations

import index


def test_public_api_is_pinned() -> None:
    assert sorted(index.__all__) == sorted(
        [
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
            "MAX_UPLOAD_BYTES",
            "UPLOAD_SUFFIXES",
            "Failure",
            "FetchedArticle",
            "FetchError",
            "Fetcher",
            "FetchReport",
            "UploadReport",
            "fetch_urls",
            "remove_article",
            "save_post",
            "save_upload",
            "SettingsError",
            "WebSettings",
            "read_env_file",
        ]
    )
    for name in index.__all__:
        assert hasattr(index, name), name


def test_default_top_k_is_three() -> None:
    assert index.DEFAULT_TOP_K == 3
