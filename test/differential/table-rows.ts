// Both sides' Iceberg tables read back by pyiceberg, one Python process for all of them: Flink's
// from the Hadoop catalog's newest metadata file (StaticTable), ours through the SQLite catalog.
// Values become canonical JSON (decimals as text, floats by repr, times in ISO form), so two rows
// are equal exactly when their JSON is.

import { runPython } from '../helpers/python.js';
import { PY_ROWS } from '../helpers/pyiceberg.js';

export interface TableRead {
  /** null: no such table (nothing was ever committed, or the query never ran). */
  rows: Array<Record<string, unknown>> | null;
  /** Iceberg's type of each column, as pyiceberg prints it. */
  types: Record<string, string>;
}

export type TableRef =
  | { key: string; kind: 'hadoop'; location: string }
  | { key: string; kind: 'sql'; warehouse: string; namespace: string; table: string };

export function readTables(refs: TableRef[]): Promise<Record<string, TableRead>> {
  return runPython<Record<string, TableRead>>(
    PY_ROWS +
      `
import glob, re
import pyarrow as pa
def as_numbers(t):
    if pa.types.is_timestamp(t): return pa.int64()
    if pa.types.is_date32(t): return pa.int32()
    if pa.types.is_list(t): return pa.list_(as_numbers(t.value_type))
    if pa.types.is_map(t): return pa.map_(as_numbers(t.key_type), as_numbers(t.item_type))
    if pa.types.is_struct(t): return pa.struct([pa.field(f.name, as_numbers(f.type)) for f in t])
    return t
from pyiceberg.table import StaticTable
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
catalogs = {}
out = {}
for ref in ARGS["refs"]:
    if ref["kind"] == "hadoop":
        files = glob.glob(ref["location"] + "/metadata/v*.metadata.json")
        if not files:
            out[ref["key"]] = {"rows": None, "types": {}}; continue
        newest = max(files, key=lambda f: int(re.search(r"/v(\\d+)\\.metadata\\.json$", f).group(1)))
        t = StaticTable.from_metadata("file://" + newest)
    else:
        w = ref["warehouse"]
        if w not in catalogs:
            catalogs[w] = SqlCatalog("local", uri="sqlite:///" + w + "/catalog.db", warehouse="file://" + w)
        try:
            t = catalogs[w].load_table((ref["namespace"], ref["table"]))
        except NoSuchTableError:
            out[ref["key"]] = {"rows": None, "types": {}}; continue
    types = {f.name: str(f.field_type) for f in t.schema().fields}
    tbl = t.scan().to_arrow()
    try:
        rows = rows_of(tbl)
    except OverflowError:
        # A time past year 9999 (a zone's offset can take one there) has no Python datetime:
        # such tables are compared by the times' numbers (micros or days since 1970).
        rows = rows_of(tbl.cast(pa.schema([pa.field(f.name, as_numbers(f.type)) for f in tbl.schema])))
    out[ref["key"]] = {"rows": rows, "types": types}
print(json.dumps(out))
`,
    { refs },
  );
}
