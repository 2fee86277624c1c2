// The subset of SQL/JSON path that JSON_VALUE needs: `$`, `.key`, `."key"`, `['key']`, `[n]`,
// with an optional `lax` / `strict` mode word (both read the same here: errors become NULL).

type Step = string | number;

export function compileJsonPath(path: string): (doc: unknown) => unknown {
  const steps = parsePath(path);
  return (doc) => {
    let cur: unknown = doc;
    for (const s of steps) {
      if (cur === null || typeof cur !== 'object') return undefined;
      if (typeof s === 'number') {
        if (!Array.isArray(cur)) return undefined;
        cur = cur[s];
      } else {
        if (Array.isArray(cur) || !Object.hasOwn(cur, s)) return undefined;
        cur = (cur as Record<string, unknown>)[s];
      }
    }
    return cur;
  };
}

function parsePath(path: string): Step[] {
  let p = path.trim().replace(/^(lax|strict)\s+/i, '');
  if (!p.startsWith('$')) throw new Error(`JSON path '${path}' must start with $`);
  p = p.slice(1);
  const steps: Step[] = [];
  const re = /^(?:\.([A-Za-z_$][\w$]*)|\."((?:[^"\\]|\\.)*)"|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*(\d+)\s*\])/;
  while (p.length > 0) {
    const m = re.exec(p);
    if (m === null) throw new Error(`unsupported JSON path '${path}' at '${p}'`);
    if (m[5] !== undefined) steps.push(Number(m[5]));
    else steps.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
    p = p.slice(m[0].length);
  }
  return steps;
}
