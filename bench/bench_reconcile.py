"""Reading a bank statement and proposing matches at the limits: milliseconds for a CSV of
`STATEMENT_LINES_MAX` lines (parse and fingerprint), and for proposals over as many
unmatched lines and postings as a request reads (`UNMATCHED_MAX` each side).

    .venv/bin/python -m bench.bench_reconcile             # 3 runs of each, medians
    .venv/bin/python -m bench.bench_reconcile --repeat 5

The pure rules only (no database): they are what grows with the size of a statement. The
postings are the statement's own lines shifted by a day or two, a third of them split in two
(one line to two postings), so every kind of proposal is searched for.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import random
import time

from bench.common import median, print_conditions, print_table
from ledger.demo.statements import ACLEDA_LIKE
from ledger.reconcile.rules import (
    STATEMENT_LINES_MAX,
    ParsedStatement,
    Side,
    fingerprint_lines,
    parse_statement,
    propose_matches,
)
from ledger.reconcile.service import UNMATCHED_MAX

# The ACLEDA-like columns, without the preamble rows.
MAPPING = dataclasses.replace(ACLEDA_LIKE, header_row=0)


def statement_csv(lines_n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    day = datetime.date(2018, 1, 1)
    balance = 1_000_000_000  # 10 million dollars: stays positive over the whole file
    rows = ["Date,Description,Reference,Debit,Credit,Balance"]
    for index in range(lines_n):
        day += datetime.timedelta(days=rng.choice((0, 0, 1)))
        cents = rng.randrange(100, 50_000)
        incoming = rng.random() < 0.3
        balance += cents if incoming else -cents
        amount = f"{cents // 100:,}.{cents % 100:02d}"
        debit, credit = ("", amount) if incoming else (amount, "")
        shown = f"{balance // 100:,}.{balance % 100:02d}"
        rows.append(
            f'{day:%d/%m/%Y},Payment {index} to supplier,FT{index:07d},"{debit}","{credit}",'
            f'"{shown}"'
        )
    return "\n".join(rows) + "\n"


def sides(statement: ParsedStatement, count: int) -> tuple[list[Side], list[Side]]:
    rng = random.Random(11)
    lines = [
        Side(i, line.date, line.units, line.description, line.reference)
        for i, line in enumerate(statement.lines[:count])
    ]
    postings: list[Side] = []
    for line in lines:
        day = line.date + datetime.timedelta(days=rng.choice((0, 1, 2)))
        if line.id % 3 == 0 and abs(line.units) > 1:
            half = line.units // 2
            postings.append(Side(len(postings) + 100_000, day, half, "first half"))
            postings.append(Side(len(postings) + 100_000, day, line.units - half, "second half"))
        else:
            postings.append(Side(len(postings) + 100_000, day, line.units, line.reference))
    return lines, postings[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_conditions(
        "statement import and match proposals (pure rules)",
        {"lines": STATEMENT_LINES_MAX, "unmatched each side": UNMATCHED_MAX, "repeat": args.repeat},
    )
    text = statement_csv(STATEMENT_LINES_MAX)
    parse_ms, proposal_ms = [], []
    proposals_n = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        parsed = parse_statement(text, MAPPING, "USD", 2)
        assert isinstance(parsed, ParsedStatement), parsed
        fingerprint_lines(parsed.lines, "USD")
        parse_ms.append((time.perf_counter() - start) * 1000)
        lines, postings = sides(parsed, UNMATCHED_MAX)
        start = time.perf_counter()
        proposals_n = len(propose_matches(lines, postings))
        proposal_ms.append((time.perf_counter() - start) * 1000)
    print_table(
        ("step", "size", "median ms"),
        [
            ("parse + fingerprint", f"{len(text) / 1e6:.1f} MB, {STATEMENT_LINES_MAX} lines",
             median(parse_ms)),
            ("propose matches", f"{UNMATCHED_MAX} x {UNMATCHED_MAX}, {proposals_n} proposals",
             median(proposal_ms)),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
