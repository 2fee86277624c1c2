import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretScrubber } from '../../src/config/secrets.js';
import { createLogger } from '../../src/runtime/log.js';

/** What the logger writes to stderr while `fn` runs. */
function captured(fn: () => void): string {
  let out = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('the logger', () => {
  // A secret with a quote and a backslash: JSON escapes both, so a scrub of the finished line
  // would no longer find it.
  const secret = 'pa"ss\\word-42';
  const scrubber = SecretScrubber.of({ kafka: { security: { password: secret } } });

  it('writes JSON lines without the secrets it was given, in the message, fields and nested fields', () => {
    const log = createLogger({ json: true, scrubber }).child({ pipeline: 'p' });
    const out = captured(() => log.log('error', `refused: ${secret}`, { error: `at https://u:uri-pass@h/x with ${secret}`, causes: [secret] }));
    const line = JSON.parse(out) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'refused: ***', pipeline: 'p', error: 'at https://u:***@h/x with ***', causes: ['***'] });
    expect(out).not.toContain('uri-pass');
  });

  it('writes human lines without them', () => {
    const log = createLogger({ json: false, scrubber });
    const out = captured(() => log.log('warn', `refused: ${secret}`, { detail: { why: secret } }));
    expect(out).not.toContain('word-42');
    expect(out).toMatch(/^WARN refused: \*\*\*/);
  });
});
