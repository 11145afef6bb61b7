"""Errors of the retrieval core; every message says what is wrong and how to fix it.

```text
RetrievalError            base class; its message is shown to the operator as-is
├── DataFormatError       a bad article file or row; carries path and line number
├── IndexNotBuiltError    no readable index (missing, unknown format, corrupt, inconsistent)
├── ModelMismatchError    the index was built with another model or dimension
├── ModelUnavailableError the embedding model cannot be loaded (not bundled, not cached, no hub)
└── SearchUnavailableError the search engine (Qdrant) did not answer; retrying later may work
```
"""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class of every error the retrieval core raises on purpose."""


class DataFormatError(RetrievalError):
    """A malformed article file or JSONL row."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        """Build ``path:line: problem`` (the line is left out when unknown)."""
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class IndexNotBuiltError(RetrievalError):
    """No readable index in the index directory."""


class ModelMismatchError(RetrievalError):
    """The index was built with another embedding model or dimension."""


class ModelUnavailableError(RetrievalError):
    """The embedding model could not be loaded."""


class SearchUnavailableError(RetrievalError):
    """The search engine (a Qdrant server) could not be reached or failed to answer."""
