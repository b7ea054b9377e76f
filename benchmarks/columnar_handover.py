"""Is a columnar format measurably faster than JSON for what the analyse job hands the report job? (issue 13:
"between jobs, use a columnar format (Parquet via pyarrow, or Arrow IPC) if that is measurably faster than JSON").

The large part of results.json is four tables of rows: the studies, the patients, the therapy courses and the
quotes behind them (about 60% of its bytes at 100,000 patients). For each, in CPU seconds (median of the runs):
the writer's JSON (compact, sorted keys, json's C encoder) written and read back; Arrow IPC and Parquet (zstd)
built from the same rows and written, then read back as the rows of dicts the report's code walks (`to_pylist`)
and as columns (`to_pydict`, what a columnar report would walk); and the size of each file.

    .venv/bin/metacalc synthesize /tmp/syn100000 --patients 100000 --therapies 50 --seed 1
    (cd /tmp/syn100000 && /work/main/.venv/bin/snakemake -c2)
    pip install --target /tmp/pa pyarrow      # a measurement only: pyarrow is not a dependency of metacalc
    PYTHONPATH=/tmp/pa .venv/bin/python benchmarks/columnar_handover.py /tmp/syn100000/reports/tables/results.json 3
"""
import gc
import json
import os
import statistics
import sys
import tempfile
import time

try:
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq
except ImportError:
    sys.exit("pyarrow is needed for this measurement (pip install pyarrow); metacalc itself does not use it")

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
gc.disable()  # as results_io reads and writes: the collector's passes find no cycles in JSON values
with open(path, encoding="utf-8") as handle:
    document = json.load(handle)
# The quotes as rows, one per sentence: (row, columns, quote, location); results.json nests them by row.
quotes = [{"row": row, "columns": ";".join(quote["columns"]), "quote": quote["quote"], "location": quote["location"]}
          for row, row_quotes in document["quotes"].items() for quote in row_quotes]
tables = {"studies": document["studies"], "patients": document["patients"], "courses": document["treatments"],
          "quotes": quotes}
del document
encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
folder = tempfile.mkdtemp(prefix="columnar-")


def seconds(task):
    """Median CPU seconds of ``runs`` runs of ``task``."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        task()
        times.append(time.process_time() - start)
    return statistics.median(times)


def write_json(name, rows):
    with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as handle:
        handle.write(encoder.encode(rows))


def read_json(name):
    with open(os.path.join(folder, f"{name}.json"), encoding="utf-8") as handle:
        return json.load(handle)


def as_table(rows):
    columns = list(rows[0])
    return pa.Table.from_pydict({column: [row[column] for row in rows] for column in columns})


def write_arrow(name, rows):
    table = as_table(rows)
    with ipc.new_file(os.path.join(folder, f"{name}.arrow"), table.schema) as writer:
        writer.write_table(table)


def read_arrow(name):
    return ipc.open_file(pa.memory_map(os.path.join(folder, f"{name}.arrow"))).read_all()


def write_parquet(name, rows):
    pq.write_table(as_table(rows), os.path.join(folder, f"{name}.parquet"), compression="zstd")


def read_parquet(name):
    return pq.read_table(os.path.join(folder, f"{name}.parquet"))


def megabytes(name, extension):
    return os.path.getsize(os.path.join(folder, f"{name}.{extension}")) / 1e6


header = ("| table | rows | JSON write | JSON read | Arrow write | Arrow read as rows | as columns | "
          "Parquet write | Parquet read as rows | as columns | MB: JSON / Arrow / Parquet |")
print(header)
print("|" + "---|" * (header.count("|") - 1))
totals = [0.0] * 8
for name, rows in tables.items():
    figures = [
        seconds(lambda: write_json(name, rows)),
        seconds(lambda: read_json(name)),
        seconds(lambda: write_arrow(name, rows)),
        seconds(lambda: read_arrow(name).to_pylist()),
        seconds(lambda: read_arrow(name).to_pydict()),
        seconds(lambda: write_parquet(name, rows)),
        seconds(lambda: read_parquet(name).to_pylist()),
        seconds(lambda: read_parquet(name).to_pydict()),
    ]
    assert read_arrow(name).to_pylist() == read_json(name) == read_parquet(name).to_pylist(), name
    totals = [total + figure for total, figure in zip(totals, figures)]
    sizes = " / ".join(f"{megabytes(name, extension):.0f}" for extension in ("json", "arrow", "parquet"))
    print(f"| {name} | {len(rows):,} | " + " | ".join(f"{figure:.2f}" for figure in figures) + f" | {sizes} |",
          flush=True)
print("| all four | | " + " | ".join(f"{total:.2f}" for total in totals) + " | |")
print(f"CPU seconds, median of {runs}; pyarrow {pa.__version__}; {path}")
