// pyiceberg as the independent reader of what the writer produced.

import type { CatalogConfig } from '../../src/config/types.js';
import { runPython } from './python.js';

/** Python that turns a pyarrow table into JSON-safe rows plus its type names. */
export const PY_ROWS = `
import datetime, decimal, base64
def jsonable(v):
    if isinstance(v, decimal.Decimal): return {"decimal": str(v)}
    if isinstance(v, datetime.datetime): return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date): return {"date": v.isoformat()}
    if isinstance(v, datetime.time): return {"time": v.isoformat()}
    if isinstance(v, bytes): return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, float): return {"float": repr(v)}
    if isinstance(v, list): return [jsonable(x) for x in v]
    if isinstance(v, dict): return {k: jsonable(x) for k, x in v.items()}
    return v
def rows_of(tbl, order_by=None):
    rows = tbl.to_pylist()
    if order_by: rows.sort(key=lambda r: r[order_by])
    return [{k: jsonable(v) for k, v in r.items()} for r in rows]
def types_of(tbl):
    return {f.name: str(f.type) for f in tbl.schema}
`;

export const PY_SQL_CATALOG = `
from pyiceberg.catalog.sql import SqlCatalog
catalog = SqlCatalog(ARGS["catalog"]["name"], uri=ARGS["catalog"]["uri"], warehouse=ARGS["catalog"]["warehouse"])
`;

export interface ScanResult {
  rows: Array<Record<string, unknown>>;
  types: Record<string, string>;
  files: number;
  iceberg_schema: string;
  spec: string;
  snapshots: number;
}

/** Loads the table through pyiceberg's SqlCatalog and scans it (optionally filtered). */
export function scanSql(catalog: Extract<CatalogConfig, { type: 'sql' }>, table: string, opts: { filter?: string; orderBy?: string } = {}): Promise<ScanResult> {
  return runPython<ScanResult>(
    PY_ROWS +
      PY_SQL_CATALOG +
      `
t = catalog.load_table(ARGS["table"])
scan = t.scan(row_filter=ARGS["filter"]) if ARGS["filter"] else t.scan()
files = list(scan.plan_files())
tbl = scan.to_arrow()
print(json.dumps({"rows": rows_of(tbl, ARGS["orderBy"]), "types": types_of(tbl), "files": len(files),
  "iceberg_schema": str(t.schema()), "spec": str(t.spec()), "snapshots": len(t.metadata.snapshots)}))
`,
    { catalog, table, filter: opts.filter ?? null, orderBy: opts.orderBy ?? null },
  );
}
