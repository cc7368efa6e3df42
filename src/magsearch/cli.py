"""The command line: `magsearch [--data DIR] COMMAND`.

Results go to stdout, errors to stderr (one line each). Exit codes: 0 success, 1 some input failed or
a check found problems, 2 a usage error or a query that cannot be understood.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import click
from tqdm import tqdm

from .config import Settings
from .errors import MagsearchError, NotFound, QueryError, SettingError, printable
from .ingest.pipeline import FileResult, Ingester, find_files
from .library import Library, open_library
from .models import Kind


def _lib(ctx: click.Context, **kw: Any) -> Library:
    try:
        lib = open_library(ctx.obj, **kw)
    except MagsearchError as exc:
        _die(str(exc), 1)
    except (OSError, sqlite3.Error) as exc:  # a full disk, an unreadable data directory
        _die(f"cannot open the data directory {ctx.obj.data_dir}: {exc}", 1)
    ctx.call_on_close(lib.close)
    return lib


def _die(message: str, code: int) -> NoReturn:
    click.echo(f"magsearch: {printable(message)}", err=True)
    sys.exit(code)


def _bar(total: int, desc: str) -> tqdm:
    """A progress bar on a terminal (files/s and the time left; ingest adds pages/s), else none."""
    return tqdm(
        total=total, desc=desc, unit="file", file=sys.stderr, disable=not sys.stderr.isatty()
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MAGSEARCH_DATA",
    default="instance",
    show_default=True,
    help="The data directory: originals, catalog and index.",
)
@click.pass_context
def cli(ctx: click.Context, data: Path) -> None:
    """magsearch: a document archive and full-text search for rulings, legislation and articles."""
    try:
        ctx.obj = Settings().with_data_dir(data)
    except SettingError as exc:
        _die(str(exc), 2)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice([k.value for k in Kind]),
    help="Kind of every file (a sidecar wins).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file on stdout.")
@click.option("--if-empty", is_flag=True, help="Only when the archive holds no document yet.")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Run again the files whose last attempt failed (with any PATHS given too).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Parallel parse workers (default: one per core)."
)
@click.option(
    "--timeout", type=click.FloatRange(1, 3600), help="Seconds allowed to parse one file."
)
@click.option(
    "--ocr",
    type=click.Choice(["auto", "always", "never"]),
    help="OCR of scanned PDF pages: auto (pages without a usable text layer, the default), "
    "always (every page), never.",
)
@click.option(
    "--language",
    metavar="LANG",
    help="Language of the scans for OCR (en, fr, de, ru, es, or Tesseract's codes such as "
    "rus+eng); a sidecar's language wins; default: the document's, else detected.",
)
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], kind: str | None, as_json: bool,
           if_empty: bool, retry_failed: bool, workers: int | None, timeout: float | None,
           ocr: str | None, language: str | None) -> None:  # fmt: skip
    """Archive and index files (PDF, HTML, plain text) and folders (recursively)."""
    settings: Settings = ctx.obj
    if ocr:
        settings = _replace(settings, ocr=ocr)
    if language:
        settings = _replace(settings, ocr_language=language)
    if workers:
        settings = _replace(settings, workers=workers)
    if timeout:
        settings = _replace(settings, parse_timeout=timeout)
    lib = _lib(ctx)
    if if_empty and lib.archive.count_documents() > 0:
        click.echo(
            f"archive already holds {_n(lib.archive.count_documents(), 'document')}; nothing to do"
        )
        return
    if not paths and not retry_failed:
        raise click.UsageError("give PATHS to ingest, or --retry-failed")
    retry = [Path(os.fsdecode(raw)) for raw in lib.archive.failed_last()] if retry_failed else []
    files = list(dict.fromkeys([*retry, *find_files(paths)]))
    if retry_failed and not files:
        click.echo("no failed file to retry")
        return
    counts: Counter[str] = Counter()
    warned = pages = 0
    started = time.monotonic()
    with _bar(len(files), "ingest") as bar:

        def report(res: FileResult) -> None:
            nonlocal warned, pages
            counts[res.status] += 1
            warned += bool(res.warnings)
            pages += res.pages or (res.status != "failed")
            elapsed = time.monotonic() - started
            if elapsed > 0:
                bar.set_postfix_str(f"{pages / elapsed:.1f} pages/s", refresh=False)
            if res.status == "failed":
                bar.write(f"failed: {printable(res.path)}: {printable(res.error)}", file=sys.stderr)
            elif not as_json:  # (--json carries them in each line)
                for warning in res.warnings:
                    bar.write(
                        f"warning: {printable(res.path)}: {printable(warning)}", file=sys.stderr
                    )
            if as_json:
                bar.write(
                    printable(json.dumps(res.as_json(), ensure_ascii=False), json=True),
                    file=sys.stdout,
                )
                sys.stdout.flush()  # each line as its file is done, also into a pipe
            bar.update(1)

        from . import alerts

        hook = alerts.on_commit(lib.archive, settings)
        try:
            ingester = Ingester(lib.archive, lib.index, settings, kind=kind or "", on_commit=hook)
            results = ingester.run(files, report)
        except MagsearchError as exc:
            _die(str(exc), 1)
    _after_ingest(lib, results)
    alerts.after_ingest(lib.archive, settings)  # sends what is due; never fails the ingest
    summary = (
        f"{counts['ingested']} ingested, {_n(counts['new-version'], 'new version')}, "
        f"{counts['unchanged']} unchanged, {counts['failed']} failed, {warned} with warnings"
    )
    click.echo(summary, err=as_json)
    sys.exit(1 if counts["failed"] else 0)


def _after_ingest(lib: Library, results: list[FileResult]) -> None:
    """The audit log names who ingested what; a curator's edits outlive new versions."""
    from . import curation
    from .accounts import Accounts, cli_actor

    actor = cli_actor()
    rows = [
        (actor, "ingest", r.id or r.path, {"file": r.path, "status": r.status, "error": r.error})
        for r in results
        if r.status != "unchanged"
    ]
    try:
        Accounts(lib.archive).audit_many(rows)
        curation.keep_edits(lib, [r.id for r in results if r.status == "new-version"])
    except (sqlite3.Error, OSError, MagsearchError) as exc:  # a full disk, say
        click.echo(f"magsearch: could not write the audit log: {exc}", err=True)


def _n(count: int, noun: str) -> str:
    """ "1 document", "2 documents"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _replace(settings: Settings, **changes: Any) -> Settings:
    from dataclasses import replace

    return replace(settings, **changes)


@cli.command()
@click.option(
    "--broker",
    envvar="MAGSEARCH_BROKER_URL",
    required=True,
    metavar="URL",
    help="The job queue's Redis, redis://HOST:PORT/N (default: MAGSEARCH_BROKER_URL).",
)
@click.option("--name", default="", help="This worker's name in the queue (default: host-pid).")
def worker(broker: str, name: str) -> None:
    """Parse and OCR files for `magsearch ingest` runs that use the same broker, one job at a time,
    until stopped (run as many as there are cores, on any machine that reaches the broker)."""
    from .ingest.queue import run_worker

    if not broker.startswith(("redis://", "rediss://")):
        _die(f"broker must be a redis:// URL (got {broker[:40]!r})", 2)
    run_worker(broker, name=name)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="The search service's JSON response.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@click.option("--year", "years", multiple=True, help="Only this year (repeatable).")
@click.option("--as-of", "as_of", help="The archive as it stood then (ISO 8601, UTC).")
@click.option("--within", help="A second query, searched within the results of QUERY.")
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], as_json: bool, limit: int, page: int,
           sort: str, kinds: tuple[str, ...], years: tuple[str, ...],
           as_of: str | None, within: str | None) -> None:  # fmt: skip
    """Search the archive. QUERY uses the query language of docs/search.md."""
    lib = _lib(ctx)
    filters = {k: v for k, v in (("kind", kinds), ("year", years)) if v}
    try:
        res = lib.search.search(
            " ".join(query), filters=filters, sort=sort, page=page, per_page=limit, as_of=as_of,
            within=within,
        )  # fmt: skip
    except QueryError as exc:
        _die(str(exc), 2)
    if as_json:
        click.echo(printable(json.dumps(res.to_json(), ensure_ascii=False, indent=1), json=True))
        return
    if res.partial:
        click.echo("note: the search ran out of time; results are partial", err=True)
    if res.historic:
        click.echo(
            f"note: as the archive stood at {res.as_of}; "
            f"{_n(res.added_since, 'document')} added since left out",
            err=True,
        )
    click.echo(
        _n(res.total, "document")
        + (f"  (did you mean: {res.suggestion})" if res.suggestion else "")
    )
    for n, hit in enumerate(res.hits, start=(page - 1) * limit + 1):
        genre = hit.genre if hit.genre != "commentary" else ""
        what = hit.kind + (f" · {genre}" if genre else "")
        when = f"{hit.date_basis} {hit.date}" if hit.date else ""
        current = f"current to {hit.current_to}" if hit.current_to else ""
        tags = ", ".join(x for x in (what, when, current) if x)
        tags += ", withdrawn since" if hit.withdrawn else ""
        tags += f", changed since (version {hit.version[:12]})" if not hit.current else ""
        click.echo(printable(f"{n:>3}. {hit.title}  [{tags}]  id={hit.id}"))
        for p in hit.passages[:1]:
            where = p.label or "¶"
            if p.page and not where.startswith("p. "):
                where += f", p. {p.page}"
            click.echo(printable(f"     {where}: {_plain(p.snippet)}"))


def _plain(snippet: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"</?mark[^>]*>", "*", snippet)).replace("\n", " ")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.pass_context
def verify(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Check a brief's citations and quotations against the archive. FILE is a text, PDF or HTML
    file ("-" reads text from standard input). Exit code 0 when everything checks out, 1 when a
    citation or quotation is not found or altered, 2 when FILE cannot be read."""
    from . import verify as verifying

    settings: Settings = ctx.obj
    try:
        if str(file) == "-":
            text = sys.stdin.read()
        else:
            text = verifying.read_brief(file.read_bytes(), settings, name=str(file))
    except OSError as exc:
        _die(f"{file}: {exc.strerror or exc}", 2)
    except verifying.BriefError as exc:
        _die(str(exc), 2)
    lib = _lib(ctx)
    base = settings.public_url.rstrip("/")
    try:
        report = verifying.verify_text(
            lib, text, link=lambda d, a: base + verifying.default_link(d, a)
        )
    except verifying.BriefError as exc:
        _die(f"{file}: {exc}", 2)
    if as_json:
        click.echo(printable(json.dumps(report, ensure_ascii=False, indent=1), json=True))
    else:
        for item in report["items"]:
            for line in _verify_lines(item):
                click.echo(printable(line))
        s = report["summary"]
        click.echo(
            f"{_n(report['citations'], 'citation')}, {_n(report['quotations'], 'quotation')}: "
            + (", ".join(f"{n} {k.replace(':', ' ')}" for k, n in s.items()) or "nothing to check")
        )
    sys.exit(0 if report["ok"] else 1)


def _verify_lines(item: dict[str, Any]) -> list[str]:
    """One result of `magsearch verify`: where, what, the verdict and the permalink."""
    text = " ".join(item["text"].split())
    text = text if len(text) <= 70 else text[:67] + "..."
    where = f"{item['start']}-{item['end']}"
    if item["type"] == "citation":
        what = f"{text}" + (f", {item['pinpoint']}" if item["pinpoint"] else "")
    else:
        what = f"\u201c{text}\u201d"
    lines = [f"{where:>13}  {item['type']:<9} {item['status']:<18} {what}"]
    target = item.get("passage") or item.get("document")
    if target:
        label = f", {item['passage']['label']}" if item.get("passage") else ""
        lines.append(f"{'':15}-> {item['document']['title']}{label}  {target['url']}")
    for d in item.get("differences", []):
        if d["op"] == "changed":
            lines.append(f"{'':15}changed: \u201c{d['quoted']}\u201d for \u201c{d['source']}\u201d")
        elif d["op"] == "added":
            lines.append(f"{'':15}added: \u201c{d['quoted']}\u201d")
        else:
            lines.append(f"{'':15}left out without an ellipsis: \u201c{d['source']}\u201d")
    if item.get("note"):
        lines.append(f"{'':15}note: {item['note']}")
    return lines


@cli.group()
def parallels() -> None:
    """Parallel provisions of the laws (docs/parallels.md)."""


@parallels.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def parallels_load(ctx: click.Context, file: Path) -> None:
    """Confirm the pairs FILE lists (archive/.parallels.json for the bundled collection); pairs
    already decided are left as they are."""
    from . import parallels as par
    from .accounts import cli_actor

    lib = _lib(ctx)
    try:
        changed = par.load(lib.archive, file, actor=cli_actor())
    except par.ParallelError as exc:
        _die(str(exc), 2)
    click.echo(f"{_n(changed, 'pair')} confirmed")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the index from the archive (the index is derived; the archive is the record)."""
    from .index.sync import rebuild

    lib = _lib(ctx, sync=False)
    with tqdm(total=lib.archive.count_documents(), desc="reindex", unit="doc", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:  # fmt: skip
        try:
            n = rebuild(lib.archive, lib.index, bar.update)
        except MagsearchError as exc:
            _die(str(exc), 1)
    with tqdm(total=len(lib.archive.version_docs()), desc="history", unit="version",
              file=sys.stderr, disable=not sys.stderr.isatty()) as bar:  # fmt: skip
        try:
            versions = lib.search.history.rebuild(bar.update)  # what searches --as-of read
        except MagsearchError as exc:
            _die(str(exc), 1)
    click.echo(
        f"reindexed {_n(n, 'document')} ({_n(versions, 'version')} for searches as of a time)"
    )


@cli.command()
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, doc_id: str, as_json: bool) -> None:
    """A document: metadata, identifiers, versions, passages, what it cites and who cites it."""
    from .views import document_view

    lib = _lib(ctx)
    try:
        view = document_view(lib.archive, doc_id)
    except NotFound as exc:
        _die(str(exc), 1)
    if as_json:
        click.echo(printable(json.dumps(view, ensure_ascii=False, indent=1), json=True))
        return
    d = view["document"]

    def echo(line: str) -> None:  # every line holds archived text: printed escaped
        click.echo(printable(line))

    echo(d["title"])
    echo(f"  id {d['id']}  kind {d['kind']}  date {d['date'] or '-'}")
    for key in ("court", "jurisdiction", "source_url"):
        if d.get(key):
            echo(f"  {key}: {d[key]}")
    echo(f"  citation: {view['citation']}")
    echo(f"  identifiers: {', '.join(d['identifiers']) or '-'}")
    for v in view["versions"]:
        echo(
            f"  version {v['seq']}: {v['sha256']}  {v['ingested_at']}  {v['size']} bytes  {v['filename']}"
        )
    echo(f"  passages ({len(view['passages'])}):")
    for p in view["passages"]:
        echo(f"    #{p['anchor']:<14} {p['label']:<10} {' '.join(p['text'].split())[:70]}")
    for title, links in (("cites", view["cites"]), ("cited by", view["cited_by"])):
        echo(f"  {title} ({len(links)}):")
        for link in links:
            echo(f"    {link['doc_id']} #{link['anchor']}  {link['title']}  ({link['normalized']})")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The problems as one JSON object.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Fixity of every original (missing, extra and corrupt files named apart), and the index
    against the catalog. Exit 1 on any problem."""
    from .preservation import fixity

    lib = _lib(ctx, sync=False)
    found = fixity(lib.archive)
    catalog = {d.id for d in lib.archive.documents()}
    indexed = lib.index.doc_ids()
    found["not_indexed"] = sorted(catalog - indexed)
    found["not_cataloged"] = sorted(indexed - catalog)
    if as_json:
        click.echo(json.dumps(found, indent=1))
    else:
        for sha in found["missing"]:
            click.echo(f"missing: {sha} (in the catalog, not on disk)", err=True)
        for rel in found["extra"]:
            click.echo(printable(f"extra: {rel} (in objects/, not in the catalog)"), err=True)
        for sha in found["corrupt"]:
            click.echo(f"corrupt: {sha} (sha256 differs)", err=True)
        for d in found["not_indexed"]:
            click.echo(printable(f"{d}: in the catalog, not in the index"), err=True)
        for d in found["not_cataloged"]:
            click.echo(printable(f"{d}: in the index, not in the catalog"), err=True)
        problems = sum(len(v) for v in found.values())
        click.echo(
            f"{_n(len(catalog), 'document')} checked, {_n(problems, 'problem')} "
            f"({len(found['missing'])} missing, {len(found['extra'])} extra, "
            f"{len(found['corrupt'])} corrupt)"
        )
    sys.exit(1 if any(found.values()) else 0)


@cli.command("export")
@click.option("--bagit", "bag", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the BagIt bag (new or empty).")  # fmt: skip
@click.pass_context
def export_(ctx: click.Context, bag: Path) -> None:
    """Write the whole archive as a BagIt bag: originals, catalog, edit history, audit log,
    checksums (validate it with `bagit.py --validate DIR`)."""
    from .accounts import Accounts, cli_actor
    from .preservation import PreservationError, export_bag

    lib = _lib(ctx, sync=False)
    with _bar(lib.archive.count_documents(), "export") as bar:
        try:
            counts = export_bag(lib, bag, bar.update)
        except PreservationError as exc:
            _die(str(exc), 2)
    Accounts(lib.archive).audit(cli_actor(), "export", str(bag), **counts)
    click.echo(
        f"exported {_n(counts.get('documents', 0), 'document')}, "
        f"{_n(counts['originals'], 'original')} to {bag}"
    )


@cli.command("import")
@click.argument("bag", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, bag: Path) -> None:
    """Restore a bag written by `magsearch export --bagit` into an empty data directory (the bag is
    validated first; the index is rebuilt)."""
    from .accounts import Accounts, cli_actor
    from .preservation import PreservationError, import_bag

    lib = _lib(ctx, sync=False)
    try:
        with _bar(0, "import") as bar:
            counts = import_bag(bag, lib, bar.update)
    except PreservationError as exc:
        _die(str(exc), 1)
    Accounts(lib.archive).audit(cli_actor(), "import", str(bag), **counts)
    click.echo(
        f"imported {_n(counts.get('documents', 0), 'document')}, "
        f"{_n(counts['originals'], 'original')}"
    )


@cli.command("log")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--failed", is_flag=True, help="Only failures.")
@click.pass_context
def log_(ctx: click.Context, limit: int, failed: bool) -> None:
    """The ingest log, newest first."""
    lib = _lib(ctx, sync=False)
    for row in lib.archive.ingest_log(limit, status="failed" if failed else None):
        extra = row["error"] or row["doc_id"]
        click.echo(
            f"{row['at']}  {row['status']:<11}  {printable(row['path'])}  {printable(extra)}"
        )
        for warning in row["warnings"]:
            click.echo(f"{'':20}  {'warning':<11}  {printable(warning)}")


@cli.command()
@click.argument("doc_id")
@click.option("--reason", required=True, help="Why, kept with the document's citation.")
@click.pass_context
def withdraw(ctx: click.Context, doc_id: str, reason: str) -> None:
    """Withdraw a document: it leaves search, its page answers 410, its citation is kept."""
    from . import curation
    from .accounts import cli_actor

    try:
        curation.withdraw(_lib(ctx), doc_id, reason, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    except ValueError as exc:
        _die(str(exc), 2)
    click.echo(f"withdrew {doc_id}")


@cli.command()
@click.argument("doc_id")
@click.pass_context
def restore(ctx: click.Context, doc_id: str) -> None:
    """Bring a withdrawn document back into search."""
    from . import curation
    from .accounts import cli_actor

    try:
        curation.restore(_lib(ctx), doc_id, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    click.echo(f"restored {doc_id}")


@cli.command()
@click.argument("doc_id")
@click.option("--off", is_flag=True, help="Lift the restriction (publish the document).")
@click.pass_context
def restrict(ctx: click.Context, doc_id: str, off: bool) -> None:
    """Restrict a document to signed-in archivists (anonymous readers never see it)."""
    from . import curation
    from .accounts import cli_actor

    try:
        changed = curation.set_restricted(_lib(ctx), doc_id, not off, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    state = "public" if off else "restricted"
    click.echo(f"{doc_id} is {state}" + ("" if changed else " (unchanged)"))


@cli.command()
@click.argument("doc_id")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts): purge at once.")
@click.pass_context
def purge(ctx: click.Context, doc_id: str, yes: bool) -> None:
    """Delete a document and its originals from the disk for good (asks for confirmation).
    The only command that removes bytes; withdraw keeps them."""
    from . import curation
    from .accounts import cli_actor

    lib = _lib(ctx)
    try:
        plan = curation.purge_plan(lib, doc_id)
    except NotFound as exc:
        _die(str(exc), 1)
    click.echo(f"{plan['id']}: {plan['title']}", err=True)
    for v in plan["versions"]:
        click.echo(f"  {v['sha256']}  {v['size']} bytes  {v['filename']}", err=True)
    if not yes:
        if not sys.stdin.isatty():
            _die("purge asks for confirmation on a terminal; pass --yes to purge without asking", 2)
        typed = click.prompt(
            f"This deletes the files above for good. Type the id ({doc_id}) to confirm",
            default="",
            show_default=False,
        )
        if typed.strip() != doc_id:
            _die("not confirmed; nothing deleted", 1)
    curation.purge(lib, doc_id, actor=cli_actor())
    click.echo(f"purged {doc_id} ({len(plan['versions'])} originals deleted)")


@cli.command()
@click.argument(
    "folder", required=False, default="ingest", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the folder.",
)
@click.option(
    "--settle",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="Seconds a file must stay unchanged before it is taken.",
)
@click.option("--once", is_flag=True, help="Take what is complete now, then stop.")
@click.pass_context
def watch(ctx: click.Context, folder: Path, interval: float, settle: float, once: bool) -> None:
    """Watch an inbox folder (default ingest/): ingest each file once complete, then move it to
    done/ or to failed/ beside NAME.error.txt. Stops on Ctrl-C or SIGTERM."""
    import signal
    import threading
    import time

    from .accounts import cli_actor
    from .inbox import Watcher

    if not folder.is_dir():
        _die(f"{folder}: not a folder", 2)
    lib = _lib(ctx)
    watcher = Watcher(lib, folder, f"inbox:{cli_actor().removeprefix('cli:')}", settle,
                      report=lambda line: click.echo(line, err=True))  # fmt: skip
    if once:
        watcher.ready()  # first look: note sizes
        time.sleep(settle)
        failed = sum(r.status == "failed" for r in watcher.once())
        sys.exit(1 if failed else 0)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"watching {folder} (Ctrl-C to stop)", err=True)
    try:
        watcher.run(interval, stop)
    except MagsearchError as exc:
        _die(str(exc), 1)


# -- accounts, tokens and the audit log ---------------------------------------------------------
def _accounts(ctx: click.Context) -> Any:
    from .accounts import Accounts

    return Accounts(_lib(ctx, sync=False).archive)


@cli.group()
def user() -> None:
    """Accounts: readers (saved searches and alerts), archivists and admins (reading alone
    needs none)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reader", "archivist", "admin"]), required=True)
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str) -> None:
    """Add a user. The password is read from the terminal, or from MAGSEARCH_PASSWORD when
    standard input is not a terminal."""
    import os

    from .accounts import AccountError, cli_actor

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = os.environ.get("MAGSEARCH_PASSWORD", "")
        if not password:
            _die("no terminal to ask for the password: set MAGSEARCH_PASSWORD", 2)
    try:
        created = _accounts(ctx).add_user(name, role, password, actor=cli_actor())
    except AccountError as exc:
        _die(str(exc), 2)
    click.echo(f"added {created.name} ({created.role})")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable a user: sign-in, sessions and tokens stop working at once."""
    from .accounts import cli_actor

    try:
        _accounts(ctx).set_disabled(name, True, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    click.echo(f"disabled {name}")


@user.command("enable")
@click.argument("name")
@click.pass_context
def user_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled user again."""
    from .accounts import cli_actor

    try:
        _accounts(ctx).set_disabled(name, False, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    click.echo(f"enabled {name}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """Users, their roles and whether they are disabled."""
    from dataclasses import asdict

    users = _accounts(ctx).users()
    if as_json:
        click.echo(json.dumps([asdict(u) for u in users], indent=1))
        return
    for u in users:
        state = "disabled" if u.disabled else "active"
        click.echo(f"{u.name:<24} {u.role:<10} {state:<9} since {u.created_at}")


@cli.group()
def token() -> None:
    """API tokens (Authorization: Bearer TOKEN)."""


@token.command("create")
@click.argument("name")
@click.pass_context
def token_create(ctx: click.Context, name: str) -> None:
    """Print a new API token for user NAME. It is shown this once: only its hash is kept."""
    from .accounts import AccountError, cli_actor

    try:
        token_id, secret = _accounts(ctx).create_token(name, actor=cli_actor())
    except (AccountError, NotFound) as exc:
        _die(str(exc), 1)
    click.echo(f"token {token_id} for {name} (shown once; store it now):", err=True)
    click.echo(secret)


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by its id (the 12 characters after msk_)."""
    from .accounts import cli_actor

    try:
        _accounts(ctx).revoke_token(token_id, actor=cli_actor())
    except NotFound as exc:
        _die(str(exc), 1)
    click.echo(f"revoked {token_id}")


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """Token ids, their users and whether they are revoked (never the tokens)."""
    for t in _accounts(ctx).tokens():
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
        click.echo(f"{t['id']}  {t['user']:<24} created {t['created_at']}  {state}")


@cli.group("alerts")
def alerts_group() -> None:
    """Saved searches and their alerts (saved on the web by signed-in users)."""


@alerts_group.command("run")
@click.pass_context
def alerts_run(ctx: click.Context) -> None:
    """Match what was ingested since the last match, and send the deliveries that are due
    (retries included). Ingest does both by itself; run this from cron to retry failed sends."""
    from .alerts import Alerts

    lib = _lib(ctx, sync=False)
    alerts = Alerts(lib.archive, lib.settings)
    added = alerts.match_new()
    counts = alerts.deliver_due()
    click.echo(f"{added} new alerts, {counts['sent']} deliveries sent, {counts['failed']} failed")
    sys.exit(1 if counts["failed"] else 0)


@alerts_group.command("list")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per saved search.")
@click.pass_context
def alerts_list(ctx: click.Context, name: str, as_json: bool) -> None:
    """User NAME's saved searches, their alerts and the state of their deliveries."""
    from .alerts import Alerts

    lib = _lib(ctx, sync=False)
    alerts = Alerts(lib.archive, lib.settings)
    try:
        user = alerts.accounts.get_user(name)
    except NotFound as exc:
        _die(str(exc), 1)
    for s in alerts.searches(user):
        status = alerts.status(s)
        if as_json:
            row = {"id": s.id, "name": s.name, "query": s.query, "filters": s.filters,
                   "sort": s.sort, "webhook": s.webhook_url, "email": s.email, **status}  # fmt: skip
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(
            f"{s.id:>5}  {printable(s.name)}  [{printable(s.query)}]  {status['alerts']} alerts"
        )
        for channel in ("webhook", "email"):
            st = status[channel]
            if st["counts"]:
                counts = ", ".join(f"{n} {k}" for k, n in st["counts"].items())
                error = f"; last error: {printable(st['error'])}" if st["error"] else ""
                click.echo(f"       {channel}: {counts}{error}")


@cli.command()
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True)
@click.option("--action", default="", help="Only this action (user-add, edit, withdraw, ...).")
@click.option("--target", default="", help="Only this target (a document id, a user name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
@click.pass_context
def audit(ctx: click.Context, limit: int, action: str, target: str, as_json: bool) -> None:
    """The audit log, newest first: every write, who made it and when."""
    for row in _accounts(ctx).audit_log(limit, action=action, target=target):
        if as_json:
            row.pop("detail_json", None)
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        detail = "; ".join(f"{k}: {v}" for k, v in row["detail"].items())
        click.echo(f"{row['at']}  {row['actor']:<20} {row['action']:<15} {row['target']}  {detail}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web interface (for production, run gunicorn on wsgi.py)."""
    import os

    from .web import create_app

    settings: Settings = ctx.obj
    if not os.environ.get("MAGSEARCH_PUBLIC_URL", "").strip():  # links name this server
        settings = _replace(settings, public_url=f"http://{host}:{port}")
    app = create_app(settings=settings)
    click.echo(f"serving {printable(ctx.obj.data_dir)} on http://{host}:{port}/", err=True)
    app.run(host=host, port=port, threaded=True)


def main() -> None:
    cli(prog_name="magsearch")


if __name__ == "__main__":
    main()
