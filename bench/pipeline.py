"""Benchmark: the whole `vnimport preview` process against the raw read.

Generates N invoice-line rows (4 lines per invoice on average) as xlsx (and
csv), then runs, in rounds, each measure as a fresh process, so that every
figure includes the interpreter's start and the imports:

  raw-xlsx        python -c: import python_calamine, read the sheet's rows
                  fully (to_python, as vnimport reads it)
  preview-xlsx    vnimport preview FILE --type customer_invoice --out F:
                  read, map, validate, group, render, write, report
  raw-csv, preview-csv   the same from the csv twin (--csv)
  naive-xlsx      pandas.read_excel + jsonschema per row + a Jinja text
                  template per document (--naive; slow, needs pandas)

The measures of a round run one after the other, in an order that rotates
from round to round, so that the machine's noise hits them alike. CPU time
is the child's user+sys (os.wait4), wall time is taken around it, max RSS
is the child's peak. Each measure's ratio to raw-xlsx is taken per round;
the table shows the median of those ratios. The issue's target: the
preview-xlsx / raw-xlsx CPU ratio at most 3x.

    python bench/pipeline.py                 # 100,000 rows, 5 rounds
    python bench/pipeline.py --quick         # 10,000 rows
    python bench/pipeline.py --rounds 9 --csv --naive
    python bench/pipeline.py --variant new=/tmp/copy   # the package in /tmp/copy too
    python bench/pipeline.py --stages        # each stage's time, in this process

``--variant LABEL=DIR`` adds a preview-xlsx measure run with DIR first on
PYTHONPATH: a copy of the repository with a change to the package, measured
beside the installed one in the same rounds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
HEADER = [
    "External reference",
    "Customer number",
    "Invoice date",
    "Due date",
    "Currency",
    "Customer reference",
    "Invoice text",
    "Item number",
    "Line description",
    "Quantity",
    "Unit",
    "Unit price",
    "Discount %",
    "Account",
    "Subaccount 1",
    "VAT code",
]
ITEMS = [
    ("000123", "Kaffe, hele bønner 1 kg", 189.5),
    ("000245", "Filterpapir nr. 4", 24.9),
    ("000871", "Pakning og ventil", 389.0),
    ("000990", "Kaffekvern, industri", 12400.0),
    ("000555", "Kopper, 12 stk", 299.0),
]


def generate(rows: int) -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = OUT / f"invoices-{rows}.xlsx", OUT / f"invoices-{rows}.csv"
    if xlsx.exists() and csv_path.exists():
        return xlsx, csv_path
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rnd = random.Random(42)
    data: list[list[object]] = []
    doc = 0
    while len(data) < rows:
        doc += 1
        customer = f"{10000 + rnd.randrange(900):05d}"
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(300))
        for _ in range(rnd.randint(2, 6)):
            item, text, price = rnd.choice(ITEMS)
            data.append(
                [
                    f"ORD-{doc:07d}",
                    customer,
                    day,
                    day + dt.timedelta(days=14),
                    "NOK",
                    "Kari Nordmann",
                    f"Ordre {doc}",
                    item,
                    text,
                    rnd.randint(1, 40),
                    "STK",
                    price,
                    rnd.choice([None, 5, 10]),
                    "3000",
                    "00",
                    "3",
                ]
            )
    data = data[:rows]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Fakturaer")
    ws.append(HEADER)
    for values in data:
        cells = []
        for v in values:
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    wb.save(xlsx)
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADER)
        for values in data:
            w.writerow(
                [
                    "" if v is None else (v.isoformat() if isinstance(v, dt.date) else v)
                    for v in values
                ]
            )
    return xlsx, csv_path


# ------------------------------------------------------------ measures

RAW_XLSX = (
    "import sys\n"
    "from python_calamine import CalamineWorkbook\n"
    "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
    "rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)\n"
    "print(len(rows) - 1)\n"
)
RAW_CSV = (
    "import csv, sys\n"
    "with open(sys.argv[1], encoding='utf-8', newline='') as fh:\n"
    "    rows = list(csv.reader(fh, delimiter=';'))\n"
    "print(len(rows) - 1)\n"
)
TARGET = 3.0  # the acceptance: preview-xlsx CPU at most 3x raw-xlsx


def vnimport_command() -> list[str]:
    """The console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("vnimport")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "importer"]


@dataclass
class Measure:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None


@dataclass
class Sample:
    cpu: float  # user + sys of the child, seconds
    wall: float
    rss_mb: float


def measures(args: argparse.Namespace, rows: int) -> list[Measure]:
    xlsx, csv_path = OUT / f"invoices-{rows}.xlsx", OUT / f"invoices-{rows}.csv"
    vn = vnimport_command()

    def preview(path: Path, out: str) -> list[str]:
        return [*vn, "preview", str(path), "--type", "customer_invoice", "--out", str(OUT / out)]

    found = [
        Measure("raw-xlsx", [sys.executable, "-c", RAW_XLSX, str(xlsx)]),
        Measure("preview-xlsx", preview(xlsx, "preview.jsonl")),
    ]
    for spec in args.variant:
        label, _, folder = spec.partition("=")
        if not folder or not (Path(folder) / "importer").is_dir():
            sys.exit(f"--variant {spec}: expected LABEL=DIR, DIR holding the importer package")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(Path(folder).resolve()), env.get("PYTHONPATH", "")) if p
        )
        where = subprocess.run(
            [sys.executable, "-c", "import importer; print(importer.__file__)"],
            env=env,
            cwd=OUT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(Path(folder).resolve()):
            sys.exit(f"--variant {spec}: the package is imported from {where}, not from {folder}")
        found.append(Measure(label, preview(xlsx, f"preview-{label}.jsonl"), env))
    if args.csv:
        found.append(Measure("raw-csv", [sys.executable, "-c", RAW_CSV, str(csv_path)]))
        found.append(Measure("preview-csv", preview(csv_path, "preview-csv.jsonl")))
    if args.naive:
        found.append(
            Measure("naive-xlsx", [sys.executable, __file__, "--rows", str(rows), "--naive-run"])
        )
    return found


def run(m: Measure) -> Sample:
    """Run one measure as a fresh process; its own CPU time, wall time, peak RSS."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(m.argv, stdout=subprocess.DEVNULL, stderr=err, env=m.env, cwd=OUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{m.name} exited {proc.returncode}:\n{err.read().decode(errors='replace')}")
    return Sample(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


NAIVE_TEMPLATE = """{
  "externalReference": {"value": "{{ doc['External reference'] }}"},
  "customerNumber": {"value": "{{ doc['Customer number'] }}"},
  "documentDate": {"value": "{{ doc['Invoice date'] }}"},
  "documentDueDate": {"value": "{{ doc['Due date'] }}"},
  "currencyId": {"value": "{{ doc['Currency'] }}"},
  "customerRefNumber": {"value": "{{ doc['Customer reference'] }}"},
  "invoiceText": {"value": "{{ doc['Invoice text'] }}"},
  "invoiceLines": [{% for l in lines %}
    {"operation": "Insert",
     "inventoryNumber": {"value": "{{ l['Item number'] }}"},
     "description": {"value": "{{ l['Line description'] }}"},
     "quantity": {"value": {{ l['Quantity'] }}},
     "uom": {"value": "{{ l['Unit'] }}"},
     "unitPriceInCurrency": {"value": {{ l['Unit price'] }}},
     {% if l['Discount %'] == l['Discount %'] %}
     "discountPercent": {"value": {{ l['Discount %'] }}},
     {% endif %}
     "accountNumber": {"value": "{{ l['Account'] }}"},
     "subaccount": [{"segmentId": 1, "segmentValue": "{{ l['Subaccount 1'] }}"}],
     "vatCodeId": {"value": "{{ l['VAT code'] }}"}}{% if not loop.last %},{% endif %}{% endfor %}
  ]
}"""


def naive(path: Path) -> int:
    """The baseline, run in its own process by ``--naive``."""
    import jinja2
    import jsonschema
    import pandas as pd

    from importer.doctypes import Registry

    doctype = Registry().get("customer_invoice")
    df = pd.read_excel(path)  # as commonly written: no dtype, so 0101 becomes 101
    validator = jsonschema.Draft202012Validator(doctype.schema)
    template = jinja2.Template(NAIVE_TEMPLATE)
    docs: dict[str, list[dict[str, object]]] = {}
    for rec in df.to_dict(orient="records"):
        canonical = {doctype.resolve_header(k): v for k, v in rec.items() if v == v}
        canonical = {
            k: (str(v) if doctype.spec_for(k).kind in ("string", "date") else v)
            for k, v in canonical.items()
            if k
        }
        list(validator.iter_errors(canonical))
        docs.setdefault(str(rec["External reference"]), []).append(rec)
    with (OUT / "naive.jsonl").open("w", encoding="utf-8") as out:
        for rows in docs.values():
            body = json.loads(template.render(doc=rows[0], lines=rows))
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
    return len(df)


def stages(path: Path) -> None:
    """Where the preview's time goes, stage by stage, in this process, as
    ``vnimport preview`` runs them (the interpreter's own start is not in it:
    see the process measures)."""
    t = time.perf_counter()
    times: list[tuple[str, float]] = []

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times.append((name, now - t))
        t = now

    from importer.batch import Batch, gc_paused, validation_report
    from importer.doctypes import Registry
    from importer.group import group_rows, hold_back
    from importer.mapping import map_table
    from importer.render import render_requests
    from importer.sources import open_table
    from importer.validate import validate_rows

    lap("import the package")
    doctype = Registry().get("customer_invoice")
    lap("load the type")
    with gc_paused():  # as the CLI runs a batch
        table = open_table(path, is_header=doctype.looks_like_header)
        lap("read (checks + calamine)")
        mapped = map_table(table, doctype)
        lap("map")
        grouping = group_rows(doctype, mapped.colmap, mapped.rows)
        lap("group")
        validate_rows(doctype, mapped.colmap, mapped.rows)
        hold_back(grouping)
        lap("validate")
        batch = Batch(doctype, table, mapped.colmap, mapped.rows, grouping, 0.0)
        with (OUT / "preview.jsonl").open("w", encoding="utf-8") as out:
            for request in render_requests(batch):
                out.write(request.json_line())
                out.write("\n")
        lap("render + write")
        validation_report(batch)
        lap("report")
    lap("freeze the survivors")
    del batch, mapped, grouping, table
    lap("free the batch")
    for name, seconds in times:
        print(f"{name:<24}{seconds:6.2f} s")
    print(f"{'total':<24}{sum(s for _, s in times):6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="a small file: 10,000 rows")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="rounds run first, not counted")
    ap.add_argument("--csv", action="store_true", help="also the csv twin (raw and preview)")
    ap.add_argument("--naive", action="store_true", help="also the naive baseline (slow)")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also preview-xlsx with the package in DIR (first on PYTHONPATH)",
    )
    ap.add_argument("--stages", action="store_true", help="time each stage, in this process")
    ap.add_argument("--naive-run", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--generate-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    rows = 10_000 if args.quick else args.rows
    if args.naive_run:
        naive(OUT / f"invoices-{rows}.xlsx")
        return
    if args.generate_run:
        generate(rows)
        return
    # In a process of its own: a child's max RSS counts this process's pages
    # from before its exec, so this one must stay small.
    subprocess.run([sys.executable, __file__, "--rows", str(rows), "--generate-run"], check=True)
    if args.stages:
        stages(OUT / f"invoices-{rows}.xlsx")
        return
    todo = measures(args, rows)
    names = [m.name for m in todo]
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    total = args.warmup + args.rounds
    for r in range(total):
        k = r % len(todo)  # rotate the order: each measure takes each place in turn
        for m in todo[k:] + todo[:k]:
            s = run(m)
            if r >= args.warmup:
                samples[m.name].append(s)
        print(f"round {r + 1}/{total}{' (warm-up)' if r < args.warmup else ''}", file=sys.stderr)
    raw = samples["raw-xlsx"]

    def ratios(name: str, attr: str) -> list[float]:
        return [
            getattr(s, attr) / getattr(b, attr) for s, b in zip(samples[name], raw, strict=True)
        ]

    print(f"{rows:,} rows, {args.rounds} rounds; medians; ratios to raw-xlsx taken per round")
    print(
        f"{'measure':<16}{'CPU s':>8}{'wall s':>8}{'rows/s':>9}{'max RSS MB':>11}"
        f"{'CPU ratio':>10}{'wall ratio':>11}"
    )
    for name in names:
        cpu = statistics.median(s.cpu for s in samples[name])
        wall = statistics.median(s.wall for s in samples[name])
        rss = max(s.rss_mb for s in samples[name])
        print(
            f"{name:<16}{cpu:>8.2f}{wall:>8.2f}{rows / wall:>9.0f}{rss:>11.0f}"
            f"{statistics.median(ratios(name, 'cpu')):>9.2f}x"
            f"{statistics.median(ratios(name, 'wall')):>10.2f}x"
        )
    for name in names[1:]:
        per_round = ", ".join(f"{x:.2f}" for x in ratios(name, "cpu"))
        print(f"{name} / raw-xlsx CPU per round: {per_round}")
    cpu_ratio = statistics.median(ratios("preview-xlsx", "cpu"))
    wall_ratio = statistics.median(ratios("preview-xlsx", "wall"))
    verdict = "met" if cpu_ratio <= TARGET else "not met"
    print(
        f"preview-xlsx / raw-xlsx: CPU {cpu_ratio:.2f}x, wall {wall_ratio:.2f}x "
        f"(target CPU <= {TARGET:.0f}x: {verdict})"
    )
    if "naive-xlsx" in samples:
        speedup = statistics.median(
            n.wall / p.wall
            for n, p in zip(samples["naive-xlsx"], samples["preview-xlsx"], strict=True)
        )
        print(f"preview-xlsx speed-up over naive-xlsx (wall): {speedup:.1f}x")


if __name__ == "__main__":
    main()
