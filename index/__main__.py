"""``python -m index build|fetch|search|eval|bench|migrate``: the retrieval core's command line.

A RetrievalError becomes its message on stderr and exit code 1 (the traceback with --debug).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from index.bench import bench_encoding, bench_faiss, bench_pipeline, read_passages
from index.cache import DEFAULT_CACHE_FILE, EmbeddingCache
from index.crossval import cross_domain, cross_validate
from index.embedding import DEFAULT_CACHE_DIR, DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from index.errors import RetrievalError
from index.evaluation import evaluate
from index.fitting import examples_of, fit_model, write_weights
from index.millionbench import bench_million
from index.models import Hit
from index.pipeline import (
    DEFAULT_DATA_DIR,
    DEFAULT_INDEX_DIR,
    build_index,
    load_index,
    mirror_index,
)
from index.progress import ProgressBar
from index.qdrantbench import bench_qdrant_local
from index.ranker import FITTED_FILE, weights_key
from index.scalebench import DEFAULT_NEWS_SCALE, bench_scale
from index.search import DEFAULT_MIN_CONFIDENCE, DEFAULT_TOP_K, SearchSettings
from index.settings import WebSettings, environment, store_settings
from index.web.fetching import DEFAULT_DELAY_S, DEFAULT_TIMEOUT_S, Fetcher
from index.web.sync import MAX_ARTICLES_PER_LISTING, fetch_urls

logger = logging.getLogger("index")
DEFAULT_NEWS_SAMPLE = Path("../shared/eval/news-sample")
BENCH_STAGES = ("pipeline", "encoding", "faiss", "scale", "million")


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    """Run one command; return the process exit code.

    ``embedder`` replaces the model named by ``--model`` (the tests' launcher passes a fake).
    """
    args = _parser().parse_args(argv)
    args.embedder = embedder
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        command: Callable[[Any], int] = args.command
        return command(args)
    except RetrievalError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


def format_hit(rank: int, hit: Hit) -> str:
    """Render a hit as plain text: source line, then the quoted paragraph."""
    chunk = hit.chunk
    where = " · ".join(x for x in (chunk.date, chunk.source) if x)
    head = f"[{rank}] {chunk.title}" + (f" ({where})" if where else "")
    return f"{head}, đoạn {chunk.paragraph}  [score {hit.score:.3f}]\n    «{chunk.text}»"


def _index_embedder(args: argparse.Namespace) -> Embedder:
    """The embedder of build/fetch/search: the injected one, else the model of --model."""
    injected: Embedder | None = args.embedder
    return injected or _embedder(args)


def _embedder(args: argparse.Namespace) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(args.model, args.model_cache, precision=args.precision)


def _search_settings(args: argparse.Namespace) -> SearchSettings:
    if not 0.0 <= args.min_confidence <= 1.0:
        raise RetrievalError(
            f"--min-confidence must be between 0 and 1, not {args.min_confidence}."
        )
    return SearchSettings(min_confidence=args.min_confidence)


def _cache(args: argparse.Namespace) -> EmbeddingCache | None:
    return None if args.no_cache else EmbeddingCache(args.cache)


def _prepare(args: argparse.Namespace) -> int:
    embedder = _embedder(args)
    print(f"model ready: {embedder.name} (dim {embedder.dim}, {embedder.fingerprint[:12]})")
    return 0


def _build(args: argparse.Namespace) -> int:
    report = build_index(
        args.data_dir,
        args.index_dir,
        _index_embedder(args),
        _cache(args),
        ProgressBar(),
        full=getattr(args, "full", False),  # fetch builds too, always incrementally
    )
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    print(
        f"{report.articles} articles, {report.chunks} paragraphs in {args.index_dir}: "
        f"+{report.added} added, {report.changed} changed, -{report.removed} removed; "
        f"{report.embedded} embedded in {report.seconds:.1f} s"
    )
    return 0


def _fetch(args: argparse.Namespace) -> int:
    web = WebSettings.from_env(environment())
    urls = args.urls or list(web.sources)
    if not urls:
        raise RetrievalError(
            "Nothing to fetch: pass URLs, or set FEEDS and/or SITEMAPS (environment or .env)."
        )
    allow_private = args.allow_private_urls or web.allow_private_urls
    with Fetcher(allow_private, args.delay, args.timeout) as fetcher:
        report = fetch_urls(urls, args.data_dir, fetcher, args.max_articles)
    for failure in report.failures:
        print(f"failed: {failure.url}: {failure.reason}", file=sys.stderr)
    for article in report.articles:
        verb = "changed" if article.changed else "new"
        print(f"{verb}: {article.title} ({article.paragraphs} paragraphs) -> {article.path}")
    print(f"fetched {len(urls)} URL(s) into {args.data_dir}: {report.line()}")
    index_exists = (args.index_dir / "manifest.json").exists()
    if args.no_index or (index_exists and not (report.new or report.changed)):
        return 0
    return _build(args)


def _search(args: argparse.Namespace) -> int:
    embedder = _index_embedder(args)
    if not (args.index_dir / "manifest.json").exists():
        build_index(args.data_dir, args.index_dir, embedder, _cache(args), ProgressBar())
    searcher = load_index(args.index_dir, embedder, _search_settings(args))
    hits = searcher.search(args.question, args.top_k)
    print("\n\n".join(format_hit(i, h) for i, h in enumerate(hits, 1)) or "Không tìm thấy.")
    return 0


def _eval(args: argparse.Namespace) -> int:
    report = evaluate(
        args.eval_dir,
        _embedder(args),
        args.strip_diacritics,
        _cache(args),
        ProgressBar(),
        _search_settings(args),
    )
    print("\n".join(report.lines()))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    store = dataclasses.replace(store_settings(), backend=args.to)
    report = mirror_index(args.index_dir, store)
    print(
        f"Qdrant collection {store.collection} ({store.where}): +{report.added} points, "
        f"-{report.removed} points; {report.count} points = {report.count} paragraphs "
        f"of {args.index_dir} (no embedding)"
    )
    return 0


def _fit(args: argparse.Namespace) -> int:
    embedder = _index_embedder(args)
    sets = {
        eval_dir.name: [
            example
            for strip in (False, True)
            for example in examples_of(eval_dir, embedder, _cache(args), args.cross, strip)
        ]
        for eval_dir in args.eval_dirs
    }
    examples = [example for found in sets.values() for example in found]
    if args.folds > 1:
        for kind, name, measured in cross_validate(sets, args.folds, DEFAULT_MIN_CONFIDENCE):
            print(measured.line(f"{args.folds}-fold by article, {kind}, {name}"), flush=True)
        for kind, source, target, measured in cross_domain(sets, DEFAULT_MIN_CONFIDENCE):
            print(measured.line(f"fitted on {source} only, {kind}, {target}"), flush=True)
    fitted = fit_model(examples)
    about = {
        "command": "python -m index fit "
        + " ".join(str(d) for d in args.eval_dirs)
        + (f" --cross {args.cross}" if args.cross else ""),
        "questions": len(examples),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_weights(args.output, weights_key(embedder.fingerprint), fitted, about)
    print(f"fitted on {len(examples)} question pools; weights of {embedder.name}: {args.output}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    unknown = set(args.stages) - set(BENCH_STAGES)
    if unknown:
        raise RetrievalError(
            f"unknown bench stages {sorted(unknown)}; use {', '.join(BENCH_STAGES)}."
        )
    if args.stages == ["scale"]:
        news = args.news or DEFAULT_NEWS_SCALE
        if news.is_dir():
            news = next(news.glob("corpus.jsonl*"), news / "corpus.jsonl")
        if not news.is_file():
            raise RetrievalError(f"{news} not found; pass --news FILE (.jsonl or .jsonl.gz).")
        cache = None if args.no_cache else args.cache
        run = bench_qdrant_local if args.store == "qdrant" else bench_scale
        scale = partial(run, news, args.limit, args.queries, args.bench_embedder, cache)
        for figure in scale():
            print(figure.line(), flush=True)
        return 0
    if args.stages == ["million"]:
        news = args.news or DEFAULT_NEWS_SCALE
        for figure in bench_million(news, args.limit or 20_000, 50, args.queries):
            print(figure.line(), flush=True)
        return 0
    corpus = (args.news or DEFAULT_NEWS_SAMPLE) / "corpus.jsonl"
    if not corpus.is_file():
        raise RetrievalError(f"{corpus} not found; pass --news DIR holding a corpus.jsonl.")
    embedder = _embedder(args)
    stages = {
        "pipeline": [partial(bench_pipeline, corpus, embedder, args.queries)],  # first: RSS
        "encoding": [partial(bench_encoding, embedder, read_passages(corpus))],
        "faiss": [partial(bench_faiss, size, embedder.dim) for size in args.faiss_sizes],
    }
    for stage in (run for name in args.stages if name in stages for run in stages[name]):
        for figure in stage():
            print(figure.line(), flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(required=True)

    def command(name: str, run: Callable[[argparse.Namespace], int], text: str) -> Any:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(command=run)
        sub.add_argument(
            "--model", default=DEFAULT_MODEL, help="EMBEDDING_MODEL (default %(default)s)"
        )
        sub.add_argument("--model-cache", type=Path, default=DEFAULT_CACHE_DIR)
        sub.add_argument("--cache", type=Path, default=DEFAULT_CACHE_FILE, help="embedding cache")
        sub.add_argument("--no-cache", action="store_true", help="embed everything again")
        sub.add_argument(
            "--precision",
            default="auto",
            choices=["auto", "float32", "bfloat16"],
            help="passage embedding precision (auto: bf16 where the CPU has it)",
        )
        return sub

    command("prepare", _prepare, "convert/load the embedding model once (run by setup)")
    build = command("build", _build, "apply the changes in the articles to the index")
    build.add_argument("--full", action="store_true", help="rebuild everything from scratch")
    search = command("search", _search, "print the passages that answer a question")
    search.add_argument("question")
    search.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    fetch = command("fetch", _fetch, "bring feeds, sitemaps and article pages into the archive")
    fetch.add_argument(
        "urls", nargs="*", help="feed, sitemap or article URLs (default: FEEDS, SITEMAPS)"
    )
    fetch.add_argument(
        "--delay", type=float, default=DEFAULT_DELAY_S, help="seconds between hits on one host"
    )
    fetch.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per network step"
    )
    fetch.add_argument(
        "--max-articles",
        type=int,
        default=MAX_ARTICLES_PER_LISTING,
        help="per feed or sitemap and run",
    )
    fetch.add_argument(
        "--allow-private-urls", action="store_true", help="as ALLOW_PRIVATE_URLS=true"
    )
    fetch.add_argument(
        "--no-index", action="store_true", help="fetch only; do not update the index"
    )
    for sub in (build, fetch, search):
        sub.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        sub.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    migrate = command("migrate", _migrate, "copy the embedded index into Qdrant (no embedding)")
    migrate.add_argument("--to", choices=["qdrant"], required=True)
    migrate.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    ev = command("eval", _eval, "score retrieval on a folder with corpus.jsonl + questions.jsonl")
    ev.add_argument("eval_dir", type=Path)
    ev.add_argument("--strip-diacritics", action="store_true")
    for sub in (search, ev):
        sub.add_argument(
            "--min-confidence",
            type=float,
            default=DEFAULT_MIN_CONFIDENCE,
            help="MIN_CONFIDENCE: quote a hit only at or above this confidence "
            "(default %(default)s)",
        )
    fit = command("fit", _fit, "fit the second-stage ranker and no-answer decision")
    fit.add_argument("eval_dirs", nargs="+", type=Path, help="eval folders (dev, news-dev)")
    fit.add_argument(
        "--cross", type=Path, help="corpus folder over which the questions have no answer"
    )
    fit.add_argument("--output", type=Path, default=FITTED_FILE)
    fit.add_argument(
        "--folds",
        type=int,
        default=4,
        help="print figures of weights fitted without each question's article, in this many "
        "folds, and fitted on one set for the others (default %(default)s; 0: skip)",
    )
    bench = command("bench", _bench, "measure throughput, latency, memory and FAISS speed")
    bench.add_argument(
        "--news",
        type=Path,
        default=None,
        help=f"corpus: a folder with corpus.jsonl (default {DEFAULT_NEWS_SAMPLE}); for the "
        f"scale stage a .jsonl or .jsonl.gz file (default {DEFAULT_NEWS_SCALE})",
    )
    bench.add_argument("--limit", type=int, default=None, help="scale: first N passages only")
    bench.add_argument(
        "--embedder",
        dest="bench_embedder",
        choices=["model", "hashing"],
        default="model",
        help="scale: the bundled model, or hashed passages with the model's query engine",
    )
    bench.add_argument("--queries", type=int, default=200)
    bench.add_argument(
        "--store",
        choices=["faiss", "qdrant"],
        default="faiss",
        help="scale: qdrant = the same questions through FAISS and Qdrant's local mode",
    )
    bench.add_argument(
        "--stages",
        type=lambda s: s.split(","),
        default=["pipeline", "encoding", "faiss"],
        help="comma-separated subset of pipeline,encoding,faiss; or scale, or million, alone",
    )
    bench.add_argument(
        "--faiss-sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100_000, 1_000_000],
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
