"""The Beancount export (`ledger.export.beancount.export_book`) against Beancount loading the
very file it wrote, at two book sizes in one run, with the export's peak memory at each.

For each size the book is built with `journal.post_many` (the bank pays grant lines, two
postings per transaction). Then:

- export: `export_book` inside one `db.read()`, every chunk written to a file;
  median of `--runs` runs; rate in transactions per second.
- baseline: `beancount.loader.load_file` on that same file (parse, booking, validation),
  with Beancount's pickle cache off so that every run parses the text, median of `--runs`
  runs (one above 100,000 transactions); its error count must be zero.
- memory: the export run once more under `tracemalloc` (not timed; tracemalloc slows Python
  down), reporting the peak of memory allocated by Python during the export. Flat means
  the same peak at both sizes.

    .venv/bin/python -m bench.bench_export                 # 10,000 and 50,000 transactions
    .venv/bin/python -m bench.bench_export --full          # 50,000 and 500,000 (1M postings)

Target (from the issue): export at least 10x the rate at which Beancount loads the same file;
memory flat in the size of the book.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from bench.common import (
    BOOK_CODE,
    account_names,
    filesystem_of,
    make_transactions,
    migrated_sqlite,
    open_book,
    print_conditions,
    print_table,
    scratch_dir,
)
from ledger.export.beancount import EXPORT_BATCH_SIZE, export_book
from ledger.store import journal
from ledger.store.database import Database

TARGET_RATIO = 10.0
LOAD_CHUNK = 10_000


def build(db: Database, names: Sequence[str], have: int, want: int) -> None:
    for first in range(have, want, LOAD_CHUNK):
        chunk = make_transactions(first, min(LOAD_CHUNK, want - first), names)
        db.write(partial(journal.post_many, book_code=BOOK_CODE, txns=chunk))


def export_to(db: Database, path: Path) -> float:
    """Seconds to export the book into `path`."""
    start = time.perf_counter()
    with db.read() as conn, path.open("w", encoding="utf-8") as out:
        for chunk in export_book(conn, BOOK_CODE):
            out.write(chunk)
    return time.perf_counter() - start


def export_peak_bytes(db: Database, path: Path) -> int:
    """Peak bytes Python allocated while exporting (tracemalloc), above what was live before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        with db.read() as conn, path.open("w", encoding="utf-8") as out:
            for chunk in export_book(conn, BOOK_CODE):
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def beancount_load(path: Path) -> tuple[float, int, int]:
    """Seconds Beancount takes to load `path`, its error count and its transaction count."""
    from beancount import loader
    from beancount.core import data

    # Beancount keeps a pickle of any load slower than a second beside the file and serves
    # later loads from it: every timed load must parse the text.
    loader.initialize(use_cache=False)
    start = time.perf_counter()
    entries, errors, _options = loader.load_file(str(path))
    seconds = time.perf_counter() - start
    count = sum(1 for e in entries if isinstance(e, data.Transaction))
    return seconds, len(errors), count


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,50000", help="book sizes in transactions, ascending"
    )
    parser.add_argument("--full", action="store_true", help="sizes 50,000 and 500,000")
    parser.add_argument("--accounts", type=int, default=200, help="grant lines in the book")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", help="keep the files here (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = [50_000, 500_000] if args.full else [int(s) for s in args.sizes.split(",")]
    names = account_names(args.accounts)

    with scratch_dir(args.dir) as directory:
        db = migrated_sqlite(directory / "export.sqlite3")
        open_book(db, args.accounts)
        print_conditions(
            "Beancount export vs Beancount loading the same file",
            {
                "files": f"{directory} on {filesystem_of(directory)}",
                "book": f"1 bank account + {args.accounts} grant lines, 2 postings per transaction",
                "sizes (transactions)": ", ".join(f"{s:,}" for s in sizes),
                "export": f"export_book, batch size {EXPORT_BATCH_SIZE}, written to a file",
                "runs": f"median of {args.runs} (Beancount: 1 run above 100,000 transactions)",
                "memory": "tracemalloc peak during one extra, untimed export",
            },
        )
        rows = []
        have = 0
        for size in sizes:
            build(db, names, have, size)
            have = size
            path = directory / f"book-{size}.beancount"
            export_seconds = statistics.median(export_to(db, path) for _ in range(args.runs))
            load_runs = args.runs if size <= 100_000 else 1
            loads = [beancount_load(path) for _ in range(load_runs)]
            load_seconds = statistics.median(s for s, _, _ in loads)
            _, errors, loaded = loads[0]
            if loaded != size:
                raise SystemExit(f"Beancount read {loaded} transactions, not {size}")
            peak = export_peak_bytes(db, path)
            export_rate = size / export_seconds
            load_rate = size / load_seconds
            ratio = export_rate / load_rate
            print(
                f"  {size:,} transactions: export {export_seconds:.2f} s, Beancount load"
                f" {load_seconds:.2f} s ({errors} errors), file {path.stat().st_size / 1e6:.1f} MB,"
                f" export peak {peak / 1e6:.2f} MB"
            )
            rows.append(
                (
                    f"{size:,}",
                    round(export_rate),
                    round(load_rate),
                    errors,
                    f"{ratio:.1f}x",
                    f">= {TARGET_RATIO:g}x",
                    "PASS" if ratio >= TARGET_RATIO and errors == 0 else "FAIL",
                    f"{peak / 1e6:.2f}",
                )
            )
        db.dispose()
    print()
    print_table(
        [
            "transactions",
            "export txns/s",
            "Beancount load txns/s",
            "load errors",
            "export / load",
            "target",
            "result",
            "export peak MB",
        ],
        rows,
    )
    peaks = [float(r[-1]) for r in rows]
    growth = peaks[-1] / peaks[0] if peaks[0] else float("inf")
    print(
        f"export peak memory: {peaks[0]:.2f} MB at {sizes[0]:,} transactions, {peaks[-1]:.2f} MB"
        f" at {sizes[-1]:,} ({growth:.2f}x for {sizes[-1] / sizes[0]:.0f}x the book):"
        f" {'flat (PASS)' if growth < 1.5 else 'grows (FAIL)'}"
    )


if __name__ == "__main__":
    main()
