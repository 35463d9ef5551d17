"""Benchmark: the preview pipeline against the raw read and a naive baseline.

Generates N invoice-line rows (4 lines per invoice on average) as xlsx and
csv, then measures, each in a fresh process so peak memory is its own:

  raw-xlsx / raw-csv    reading the file only (python-calamine, csv module)
  pipeline-xlsx / -csv  vnimport's full preview: read, map, validate, group,
                        render, and write the JSON lines
  naive-xlsx            pandas.read_excel + jsonschema per row + a Jinja text
                        template per document (the way it is often written)

    python bench/pipeline.py [--rows 100000] [--repeat 1]

Prints rows/s, the pipeline's share of the raw read rate, its speed-up over
the naive baseline and each stage's peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
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


def raw_xlsx(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return len(wb.get_sheet_by_index(0).to_python(skip_empty_area=False)) - 1


def raw_csv(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh, delimiter=";")) - 1


def pipeline(path: Path) -> int:
    """What `vnimport preview FILE --type customer_invoice --out F` does."""
    from importer.batch import preview_file
    from importer.doctypes import Registry

    with (OUT / "preview.jsonl").open("w", encoding="utf-8") as out:
        report, _ = preview_file(path, Registry().get("customer_invoice"), out)
    assert report.ok and not report.file_issues, report.summary()["issues"][:3]
    return len(report.results)


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
    """Where the pipeline's time goes, stage by stage, in this process."""
    import gc

    from importer.batch import Prepared, preview_lines, validation_report
    from importer.doctypes import Registry
    from importer.group import group_rows, hold_back
    from importer.mapping.columns import build_column_map, map_rows
    from importer.sources.files import read_table
    from importer.validate import RowValidator

    doctype = Registry().get("customer_invoice")
    gc.disable()  # as the pipeline runs (importer.batch.gc_paused)
    times: list[tuple[str, float]] = []
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times.append((name, now - t))
        t = now

    table = read_table(path)
    raw = list(table.rows)
    lap("read (calamine + rows)")
    colmap = build_column_map(table, doctype)
    rows = list(map_rows(raw, colmap))
    lap("map")
    grouping = group_rows(doctype, colmap, rows)
    lap("group")
    validator = RowValidator(doctype, colmap)
    for row in rows:
        validator.validate(row)
    hold_back(grouping)
    lap("validate")
    prepared = Prepared(doctype, table, colmap, rows, grouping, 0.0)
    with (OUT / "preview.jsonl").open("w", encoding="utf-8") as out:
        for line in preview_lines(prepared):
            out.write(line + "\n")
    lap("render + write")
    validation_report(prepared)
    lap("report")
    del prepared, rows, raw, grouping, table
    lap("free the batch")
    for name, seconds in times:
        print(f"{name:<24}{seconds:6.2f} s")
    print(f"{'total':<24}{sum(s for _, s in times):6.2f} s")


MEASURES = {
    "raw-xlsx": (raw_xlsx, "xlsx"),
    "raw-csv": (raw_csv, "csv"),
    "pipeline-xlsx": (pipeline, "xlsx"),
    "pipeline-csv": (pipeline, "csv"),
    "naive-xlsx": (naive, "xlsx"),
}


def measure(name: str, rows: int) -> None:
    fn, kind = MEASURES[name]
    path = OUT / f"invoices-{rows}.{kind}"
    t0 = time.perf_counter()
    n = fn(path)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb = usage.ru_maxrss / 1024
    print(json.dumps({"name": name, "rows": n, "seconds": seconds, "max_rss_mb": rss_mb}))


def run(name: str, rows: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--rows", str(rows), "--measure", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        sys.exit(f"{name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per measure")
    ap.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--stages", action="store_true", help="time each stage of the xlsx pipeline")
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.rows)
        return
    generate(args.rows)
    if args.stages:
        stages(OUT / f"invoices-{args.rows}.xlsx")
        return
    names = [n for n in MEASURES if not (args.skip_naive and n.startswith("naive"))]
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for name in names:  # interleaved, so machine noise hits every measure alike
            r = run(name, args.rows)
            if name not in best or r["seconds"] < best[name]["seconds"]:
                best[name] = r
    print(f"{'measure':<15}{'rows':>9}{'seconds':>9}{'rows/s':>10}{'max RSS MB':>12}")
    for name in names:
        r = best[name]
        print(
            f"{name:<15}{int(r['rows']):>9}{r['seconds']:>9.2f}"
            f"{r['rows'] / r['seconds']:>10.0f}{r['max_rss_mb']:>12.0f}"
        )
    for kind in ("xlsx", "csv"):
        share = best[f"raw-{kind}"]["seconds"] / best[f"pipeline-{kind}"]["seconds"]
        print(f"pipeline-{kind} rate / raw-{kind} rate: {share:.0%}")
    if "naive-xlsx" in best:
        speedup = best["naive-xlsx"]["seconds"] / best["pipeline-xlsx"]["seconds"]
        print(f"pipeline-xlsx speed-up over naive-xlsx: {speedup:.1f}x")


if __name__ == "__main__":
    main()
