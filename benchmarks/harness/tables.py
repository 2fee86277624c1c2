"""Reads back the Iceberg tables a benchmark run wrote, with pyiceberg (the project's .venv).

    python tables.py count METADATA_JSON
        rows of the table's current snapshot, read through its metadata file (any catalog:
        the PyFlink job's Hadoop catalog, the runtime's SQLite catalog)
    python tables.py commits METADATA_JSON
        per snapshot: its commit time (timestamp-ms) and the rows it added
    python tables.py freshness METADATA_JSON COLUMN
        per row: the snapshot commit time that made it visible minus the row's COLUMN (a
        timestamp the producer set from its clock when it sent the record), in ms

Prints one JSON object on stdout.
"""

import json
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.table import StaticTable


def count(metadata: str) -> dict:
    table = StaticTable.from_metadata(metadata)
    rows = table.scan(selected_fields=("user_id",)).to_arrow().num_rows
    return {"rows": rows, "snapshots": len(table.metadata.snapshots)}


def commits(metadata: str) -> dict:
    table = StaticTable.from_metadata(metadata)
    out = []
    for s in sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms):
        summary = s.summary.additional_properties if s.summary else {}
        out.append({"snapshot": s.snapshot_id, "committedAtMs": s.timestamp_ms, "addedRecords": int(summary.get("added-records", 0))})
    return {"commits": out}


def freshness(metadata: str, column: str) -> dict:
    table = StaticTable.from_metadata(metadata)
    committed_at = {s.snapshot_id: s.timestamp_ms for s in table.metadata.snapshots}
    entries = table.inspect.entries()
    lags = []
    for i in range(entries.num_rows):
        if entries["status"][i].as_py() != 1:  # ADDED in that snapshot
            continue
        snapshot = entries["snapshot_id"][i].as_py()
        path = entries["data_file"][i].as_py()["file_path"]
        path = path[len("file://"):] if path.startswith("file://") else path
        col = pq.read_table(path, columns=[column]).column(column)
        ms = pc.cast(pc.cast(col, "timestamp[ms]"), "int64").to_pylist()
        at = committed_at[snapshot]
        lags.extend(at - t for t in ms if t is not None)
    return {"lagsMs": lags}


def main() -> None:
    cmd, *args = sys.argv[1:]
    if cmd == "count":
        print(json.dumps(count(*args)))
    elif cmd == "commits":
        print(json.dumps(commits(*args)))
    elif cmd == "freshness":
        print(json.dumps(freshness(*args)))
    else:
        raise SystemExit(f"tables.py: unknown command {cmd!r}; expected count, commits or freshness")


if __name__ == "__main__":
    main()
