// What an Avro writer schema wrote at each place of a record: the schema node behind a field, an
// array's items or a map's values, with nullable unions, `{"type": {...}}` wrappers and
// references to named types taken away. The decoder reads logical types (and a decimal's scale)
// from these nodes at every depth, since avsc is not told about logical types (avro-schema.ts).

/**
 * The named types (records, fixed, enums) of a writer schema by full and short name, so that a
 * place which refers to one by name is followed to its definition.
 */
export function namedTypes(schema: unknown, namespace = '', out = new Map<string, Record<string, unknown>>()): Map<string, Record<string, unknown>> {
  if (Array.isArray(schema)) {
    for (const b of schema) namedTypes(b, namespace, out);
  } else if (typeof schema === 'object' && schema !== null) {
    const s = schema as Record<string, unknown>;
    let ns = namespace;
    if (typeof s.name === 'string' && (s.type === 'record' || s.type === 'error' || s.type === 'fixed' || s.type === 'enum')) {
      ns = s.name.includes('.') ? s.name.slice(0, s.name.lastIndexOf('.')) : typeof s.namespace === 'string' ? s.namespace : namespace;
      const short = s.name.includes('.') ? s.name.slice(s.name.lastIndexOf('.') + 1) : s.name;
      out.set(ns === '' ? short : `${ns}.${short}`, s);
      if (!out.has(short)) out.set(short, s);
    }
    if (typeof s.type === 'object') namedTypes(s.type, ns, out);
    if (Array.isArray(s.fields)) for (const f of s.fields as Array<{ type?: unknown }>) namedTypes(f.type, ns, out);
    if (s.items !== undefined) namedTypes(s.items, ns, out);
    if (s.values !== undefined) namedTypes(s.values, ns, out);
  }
  return out;
}

/**
 * What the writer wrote at one place: its schema node with nullable unions, `{type: {...}}`
 * wrappers and named references taken away. Undefined when the writer has no single counterpart
 * there (a field it lacks, a union of several types): the reader's type then decides.
 */
export interface Written {
  node: Record<string, unknown> | string | undefined;
  names: Map<string, Record<string, unknown>>;
}

export function written(schema: unknown, names: Map<string, Record<string, unknown>>): Written {
  let s = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (Array.isArray(s)) {
      const branches = s.filter((b) => b !== 'null' && !(typeof b === 'object' && b !== null && (b as { type?: unknown }).type === 'null'));
      if (branches.length !== 1) return { node: undefined, names };
      s = branches[0];
    } else if (typeof s === 'string') {
      const named = names.get(s);
      if (named === undefined) return { node: s, names };
      s = named;
    } else if (typeof s === 'object' && s !== null) {
      const t = (s as { type?: unknown }).type;
      if (typeof t === 'object' && t !== null) s = t;
      else return { node: s as Record<string, unknown>, names };
    } else return { node: undefined, names };
  }
  return { node: undefined, names };
}

export const NOTHING_WRITTEN: Written = { node: undefined, names: new Map() };

export function logicalTypeOf(w: Written): { logicalType?: string; scale?: number } {
  const n = w.node;
  if (typeof n !== 'object') return {};
  return { ...(typeof n.logicalType === 'string' ? { logicalType: n.logicalType } : {}), ...(typeof n.scale === 'number' ? { scale: n.scale } : {}) };
}

/** The writer's node for the items of an array, the values of a map, or a record's field. */
export function writtenChild(w: Written, key: 'items' | 'values'): Written {
  const n = w.node;
  return typeof n === 'object' && n[key] !== undefined ? written(n[key], w.names) : NOTHING_WRITTEN;
}

export function writtenField(w: Written, name: string): Written {
  const n = w.node;
  if (typeof n !== 'object' || !Array.isArray(n.fields)) return NOTHING_WRITTEN;
  const fields = n.fields as Array<{ name: string; type: unknown; aliases?: string[] }>;
  const f = fields.find((x) => x.name === name) ?? fields.find((x) => x.aliases?.includes(name));
  return f === undefined ? NOTHING_WRITTEN : written(f.type, w.names);
}
