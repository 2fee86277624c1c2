// Short ASCII strings of one column, kept by their bytes so a value seen before is the same JS
// string again, not a new one: event names, platforms, country codes repeat record after record,
// and making a string from bytes (a call into Node's C++ and an allocation) costs more than
// hashing and comparing a dozen bytes. Direct-mapped, no eviction policy beyond the slot's last
// occupant. A column whose values rarely repeat (session ids) turns its cache off after a trial,
// so it pays nothing but the counting for long.

const SLOTS = 256;
/** Longer strings are made afresh: comparing them costs what it saves. */
export const SHORT_STRING_BYTES = 32;
/** Look-ups before the cache judges whether it pays. */
const TRIAL = 4096;

export class ShortStringCache {
  private readonly bytes = new Uint8Array(SLOTS * SHORT_STRING_BYTES);
  private readonly lengths = new Int32Array(SLOTS).fill(-1);
  private readonly strings: string[] = new Array<string>(SLOTS).fill('');
  private lookups = 0;
  private hits = 0;
  /** False once the trial showed the column's values rarely repeat. */
  on = true;

  /** The string of ASCII bytes buf[from, to), at most SHORT_STRING_BYTES long. */
  get(buf: Buffer, from: number, to: number): string {
    const len = to - from;
    let h = len;
    for (let j = from; j < to; j++) h = Math.imul(h ^ buf[j]!, 0x01000193);
    const slot = (h ^ (h >>> 16)) & (SLOTS - 1);
    const at = slot * SHORT_STRING_BYTES;
    const bytes = this.bytes;
    if (this.lengths[slot] === len) {
      let same = true;
      for (let j = 0; j < len; j++) {
        if (bytes[at + j] !== buf[from + j]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.hits++;
        this.count();
        return this.strings[slot]!;
      }
    }
    this.count();
    const s = buf.toString('latin1', from, to);
    for (let j = 0; j < len; j++) bytes[at + j] = buf[from + j]!;
    this.lengths[slot] = len;
    this.strings[slot] = s;
    return s;
  }

  private count(): void {
    if (++this.lookups === TRIAL) this.on = this.hits * 2 >= TRIAL;
  }
}
