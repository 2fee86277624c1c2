// Which configuration values are secrets, and how text is cleaned of them before it is printed.
// Configuration errors, `--check`, logs and error messages all reach terminals and log stores,
// so a secret the runtime was given must never appear in any of them.
//
// A key is secret by its name, not by a list of the keys we know today: a key added later whose
// name says "token" or "password" is masked without anyone remembering to list it. The price is
// that a harmless key with such a name shows no value in its errors, which costs little.

import type { ConfigPath } from './issues.js';

/**
 * Key names that carry secrets, case-insensitive: passwords and passphrases, secrets and tokens
 * of every kind (`client_secret`, `bearer_token`, `s3.session-token`), credentials, SASL settings
 * (`sasl_jaas_config`, `sasl.jaas.config`: Java's JAAS line holds the password), AWS access keys
 * (`access_key_id`, `s3.access-key-id`, `secretAccessKey`), API and private keys, HTTP
 * `Authorization` and `Cookie` headers, `basic_auth` and user-info (`user:password`) settings.
 */
const SECRET_KEY =
  /pass(word|wd|phrase)|secret|token|credential|(^|[._-])sasl[._-]|access[._-]?key|api[._-]?key|private[._-]?key|authori[sz]ation|cookie|jaas|basic[._-]?auth|user[._-]?info/i;

/** Whether a key's value is a secret, judged by the key's name. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Whether the value at `path` is a secret: the nearest key of the path (list indexes skipped)
 * names one. Only the nearest key counts, so that a topic named `token-events` does not hide the
 * values of every setting beneath it.
 */
export function isSecretPath(path: ConfigPath): boolean {
  for (let i = path.length - 1; i >= 0; i--) {
    const part = path[i];
    if (typeof part === 'string') return isSecretKey(part);
  }
  return false;
}

/** What a secret is replaced with wherever it would be printed. */
export const MASK = '***';

/** `scheme://user:password@` in any text; the user name is kept, it helps find the setting. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):([^\s/?#@]*)@/gi;

/** `https://user:pass@host/...` → `https://user:***@host/...`, wherever URIs appear in `text`. */
export function maskUserinfo(text: string): string {
  return text.replace(USERINFO, (_, head: string) => `${head}:${MASK}@`);
}

/** The passwords of every `scheme://user:password@` in `text`. */
function userinfoPasswords(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(USERINFO)) if (m[2] !== '') out.push(m[2]!, safeDecode(m[2]!));
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Shorter secret values are not searched for: a three-character "password" would mask every
 * occurrence of those letters in every line, and is no secret worth the name.
 */
const MIN_SCRUBBED_LENGTH = 4;

/**
 * Keys under the secret pattern whose values are still not searched for in text: a SASL
 * mechanism is one of a public list (`SCRAM-SHA-512`), which our own messages name; masking it
 * everywhere would hide what they say. Its value is still never shown as a key's found value.
 */
const PUBLIC_VALUE_KEY = /mechanism$/i;

/**
 * Every secret value in a configuration tree (raw YAML data or the resolved configuration): the
 * strings under keys that name secrets, at any depth, and the passwords of URIs anywhere.
 */
export function secretValues(tree: unknown): string[] {
  const found = new Set<string>();
  const add = (s: string) => {
    if (s.length >= MIN_SCRUBBED_LENGTH) found.add(s);
  };
  const walk = (value: unknown, secret: boolean, depth: number): void => {
    // Configuration trees are a few levels deep; the bound only guards against a cycle.
    if (depth > 32) return;
    if (typeof value === 'string') {
      if (secret) add(value);
      for (const p of userinfoPasswords(value)) add(p);
    } else if ((typeof value === 'number' || typeof value === 'bigint') && secret) {
      add(String(value));
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, secret, depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, secret || (isSecretKey(k) && !PUBLIC_VALUE_KEY.test(k)), depth + 1);
    }
  };
  walk(tree, false, 0);
  return [...found];
}

/**
 * Cleans text of the given secret values and of URI passwords. Made once per configuration and
 * applied to every line printed: a library's message or a server's answer may quote a
 * credential back (a URL with its user-info, a JAAS line), whatever our own code takes care of.
 */
export class SecretScrubber {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so that a secret containing another is masked whole.
    this.secrets = [...new Set(secrets)].filter((s) => s.length >= MIN_SCRUBBED_LENGTH).sort((a, b) => b.length - a.length);
  }

  static of(tree: unknown): SecretScrubber {
    return new SecretScrubber(secretValues(tree));
  }

  scrub(text: string): string {
    let out = maskUserinfo(text);
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }
}
