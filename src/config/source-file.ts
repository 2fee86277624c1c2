// One YAML configuration file: its parsed document (kept for line numbers), its interpolated
// data, and the problems found in it so far.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Document } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue, ConfigPath } from './issues.js';
import { interpolateEnv } from './interpolate.js';
import { isSecretPath, SecretScrubber } from './secrets.js';

/**
 * Largest configuration file read: 1 MiB. Real ones are a few kilobytes; a larger one is a
 * mistake or an attack, and parsing YAML of tens of megabytes takes seconds and hundreds of MB.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * Aliases a file may expand (the yaml package's `maxAliasCount`). A "billion laughs" file nests
 * aliases of aliases so that a few hundred bytes expand to gigabytes; the parser refuses it
 * past this count, and the refusal is reported as a configuration problem.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * Deepest nesting of flow collections (`[...]`, `{...}`) accepted. The yaml parser recurses per
 * level: it turns a stack overflow into a document error, but a file of a few hundred thousand
 * brackets still takes tens of seconds to get there. Real files nest a handful of levels.
 */
export const MAX_FLOW_NESTING = 64;

export class SourceFile {
  readonly issues: ConfigIssue[] = [];
  /** Paths whose `${VAR}` could not be resolved: reported once, not again as a bad value. */
  readonly unresolved: ConfigPath[] = [];
  /** The interpolated tree; `undefined` if the file could not be read or parsed. */
  data: unknown;
  private doc: Document | undefined;
  private readonly lines = new LineCounter();
  private scrubber: SecretScrubber | undefined;

  constructor(
    /** The path shown in messages. */
    readonly displayName: string,
    readonly absolutePath: string,
  ) {}

  static read(absolutePath: string, env: Readonly<Record<string, string | undefined>>): SourceFile {
    const rel = path.relative(process.cwd(), absolutePath);
    const file = new SourceFile(rel.startsWith('..') || rel === '' ? absolutePath : rel, absolutePath);
    let text: string;
    try {
      const read = readCapped(absolutePath, MAX_CONFIG_FILE_BYTES);
      if (read.tooLarge !== null) {
        file.issues.push({
          file: file.displayName,
          path: [],
          problem: `the file ${read.tooLarge === Infinity ? 'holds more than' : `is ${read.tooLarge} bytes, over`} the limit of ${MAX_CONFIG_FILE_BYTES} bytes (1 MiB) for a configuration file`,
          hasFound: false,
          accepted: 'a file of at most 1 MiB',
        });
        return file;
      }
      text = read.text;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      file.issues.push({
        file: file.displayName,
        path: [],
        problem: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(err)})`,
        hasFound: false,
      });
      return file;
    }
    const deep = flowNestingBeyond(text, MAX_FLOW_NESTING);
    if (deep !== null) {
      // Not parsed, so the line counter knows no lines yet.
      const lineStart = text.lastIndexOf('\n', deep - 1) + 1;
      file.issues.push({
        file: file.displayName,
        path: [],
        line: text.slice(0, lineStart).split('\n').length,
        column: deep - lineStart + 1,
        problem: `flow collections ([...] or {...}) nested more than ${MAX_FLOW_NESTING} levels deep`,
        hasFound: false,
        accepted: `at most ${MAX_FLOW_NESTING} levels`,
      });
      return file;
    }
    const doc = parseDocument(text, { lineCounter: file.lines, prettyErrors: false, uniqueKeys: true });
    file.doc = doc;
    for (const err of doc.errors) {
      const pos = file.lines.linePos(err.pos[0]);
      file.issues.push({
        file: file.displayName,
        path: [],
        line: pos?.line,
        column: pos?.col,
        problem: `not valid YAML: ${err.message.split('\n')[0]}`,
        hasFound: false,
      });
    }
    if (doc.errors.length > 0) return file;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // yaml throws a ReferenceError for an alias bomb (and for an alias to nothing).
      file.issues.push({
        file: file.displayName,
        path: [],
        problem: `cannot be expanded: ${err instanceof Error ? err.message : String(err)}`,
        hasFound: false,
        accepted: `at most ${MAX_ALIAS_COUNT} alias expansions`,
      });
      return file;
    }
    if (raw === null || raw === undefined) {
      file.issues.push({ file: file.displayName, path: [], problem: 'the file is empty', hasFound: false, accepted: 'a mapping' });
      return file;
    }
    const { value, problems } = interpolateEnv(raw, env);
    for (const p of problems) {
      file.unresolved.push(p.path);
      file.add(p.path, `environment variable ${p.variable} is not set and has no default`, {
        accepted: `${p.variable} set, or \${${p.variable}:-default}`,
      });
    }
    file.data = value;
    return file;
  }

  valueAt(p: ConfigPath): unknown {
    let cur: unknown = this.data;
    for (const part of p) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string | number, unknown>)[part];
    }
    return cur;
  }

  /** Line and column of the node at `p`, or of its nearest ancestor that exists. */
  positionOf(p: ConfigPath): { line?: number; column?: number } {
    if (!this.doc) return {};
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const pos = this.lines.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  }

  /** Position of the key itself (for unknown keys), falling back to its value. */
  keyPositionOf(parent: ConfigPath, key: string): { line?: number; column?: number } {
    const node = this.doc?.getIn(parent, true);
    if (node && (isMap(node) || isSeq(node)) && isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key as { value?: unknown; range?: [number, number, number] } | null;
        if (k && k.value === key && k.range) {
          const pos = this.lines.linePos(k.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
    }
    return this.positionOf([...parent, key]);
  }

  add(
    p: ConfigPath,
    problem: string,
    opts: { accepted?: string; found?: unknown; showFound?: boolean; keyOf?: string } = {},
  ): void {
    const target = opts.keyOf !== undefined ? [...p, opts.keyOf] : p;
    const isUnresolved = (u: ConfigPath) => u.length <= target.length && u.every((part, i) => part === target[i]);
    if (this.issues.length > 0 && this.unresolved.some(isUnresolved) && !problem.startsWith('environment variable')) return;
    // A secret's value is never repeated back: issues reach the terminal, logs and error details.
    // Nor is one that turns up elsewhere: a URI's password, or a secret's value written again
    // under a key whose name does not say so (the same `${VAR}` in two places).
    const secret = isSecretPath(target);
    // Built once the data is known (problems with `${VAR}` are added before it is).
    const scrubber = this.data === undefined ? new SecretScrubber([]) : (this.scrubber ??= SecretScrubber.of(this.data));
    const shown = secret ? undefined : 'found' in opts ? opts.found : this.valueAt(p);
    const found = typeof shown === 'string' ? scrubber.scrub(shown) : shown;
    const pos = opts.keyOf !== undefined ? this.keyPositionOf(p, opts.keyOf) : this.positionOf(p);
    this.issues.push({
      file: this.displayName,
      path: opts.keyOf !== undefined ? [...p, opts.keyOf] : [...p],
      line: pos.line,
      column: pos.column,
      problem: scrubber.scrub(problem),
      found,
      hasFound: secret ? false : (opts.showFound ?? found !== undefined),
      accepted: opts.accepted,
    });
  }

  /** Validates the data against a zod schema, recording every issue; returns the parsed value. */
  validate<S extends z.ZodType>(schema: S): z.infer<S> | undefined {
    if (this.data === undefined) return undefined;
    const result = schema.safeParse(this.data);
    if (result.success) return result.data;
    for (const issue of result.error.issues) this.addZodIssue(schema, issue);
    return undefined;
  }

  private addZodIssue(root: z.ZodType, issue: z.core.$ZodIssue): void {
    const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
    const found = this.valueAt(p);
    switch (issue.code) {
      case 'invalid_type':
        if (found === undefined) this.add(p, 'required key is missing', { accepted: article(issue.expected) });
        else this.add(p, 'wrong type', { accepted: article(issue.expected) });
        return;
      case 'invalid_value':
        this.add(p, 'not an accepted value', { accepted: `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` });
        return;
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const known = knownKeys(root, p);
          this.add(p, `unknown key ${JSON.stringify(key)}`, {
            keyOf: key,
            found: undefined,
            accepted: known ? `one of ${known.join(', ')}` : undefined,
          });
        }
        return;
      case 'too_small':
        if (Array.isArray(found)) this.add(p, 'too few entries', { accepted: `at least ${String(issue.minimum)}` });
        else if (typeof found === 'string') this.add(p, 'empty', { accepted: 'a non-empty string' });
        else this.add(p, 'too small', { accepted: `at least ${String(issue.minimum)}` });
        return;
      case 'too_big':
        this.add(p, 'too large', { accepted: `at most ${String(issue.maximum)}` });
        return;
      case 'invalid_union':
        this.add(p, 'wrong type', { accepted: unionAccepted(found) });
        return;
      case 'invalid_format':
        this.add(p, `not a valid ${issue.format}`, { accepted: issue.format === 'url' ? 'an http(s) URL' : issue.format });
        return;
      case 'invalid_key':
        this.add(p, 'invalid key', {});
        return;
      default:
        this.add(p, issue.message, {});
    }
  }
}

/**
 * Where flow-collection nesting first exceeds `max`, or null. Quoted scalars and comments are
 * skipped; a bracket inside a plain scalar is counted, which can only make this stricter.
 */
function flowNestingBeyond(text: string, max: number): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === "'") {
      for (i++; i < text.length; i++) if (text[i] === "'" && text[++i] !== "'") break;
      i--;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      if (++depth > max) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return null;
}

/**
 * Reads at most `cap` bytes: the size is checked before reading (fstat on the open file, so the
 * file checked is the file read), and the read itself stops past the cap for files whose size
 * fstat does not tell (a pipe, a device). `tooLarge` is the size found, or null.
 */
function readCapped(absolutePath: string, cap: number): { text: string; tooLarge: number | null } {
  const fd = openSync(absolutePath, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > cap) return { text: '', tooLarge: size };
    const buf = Buffer.alloc(cap + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > cap) return { text: '', tooLarge: size > cap ? size : Infinity };
    }
    return { text: buf.toString('utf8', 0, n), tooLarge: null };
  } finally {
    closeSync(fd);
  }
}

function article(expected: string): string {
  if (expected === 'object') return 'a mapping';
  if (expected === 'array') return 'a list';
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function unionAccepted(found: unknown): string {
  return found !== null && typeof found === 'object' ? 'a string or a number (a value, not a mapping)' : 'a string or a list of strings';
}

/** The keys a strict object schema accepts at `p`, found by walking the schema. */
function knownKeys(schema: z.ZodType, p: ConfigPath): string[] | undefined {
  let cur: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    for (;;) {
      const def = (s as { def?: { type?: string; innerType?: unknown; in?: unknown; out?: unknown } }).def;
      if (!def) return s;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') s = def.innerType;
      else if (def.type === 'pipe') s = def.out;
      else return s;
    }
  };
  for (const part of p) {
    cur = unwrap(cur);
    const def = (cur as { def: { type: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown } }).def;
    if (def.type === 'object' && typeof part === 'string') cur = def.shape?.[part];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  cur = unwrap(cur);
  const def = (cur as { def: { type: string; shape?: Record<string, unknown> } }).def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

