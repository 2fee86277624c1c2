// What every source decoder (JSON, CSV, Avro) is given and gives back: the declared fields, the
// decode options, and the decoded batch of columns with its dead letters.

import type { SqlType } from '../../schema/sql-types.js';
import type { DeadLetter } from '../dead-letter.js';

export interface SourceField {
  name: string;
  type: SqlType;
}

export interface DecodedBatch {
  /** Rows that decoded. */
  count: number;
  /** One array per source field, in source-schema order, `count` long. */
  columns: unknown[][];
  /** Row j came from record `recordIndex[j]` of the raw batch. */
  recordIndex: Int32Array;
  deadLetters: DeadLetter[];
  /** Records with a null value (tombstones), and CSV comment records: neither rows nor errors, only counted. */
  tombstones: number;
  /** JSON only: rows the byte reader stored (the others went through JSON.parse). */
  byteRead?: number;
}

export interface DecodeOptions {
  /** A value longer than this many bytes is a dead letter (RECORD_TOO_LARGE), not parsed. */
  maxRecordBytes: number;
  /**
   * JSON only: try the byte reader (json-byte-reader.ts) before JSON.parse. Default: on, unless
   * the environment turns it off (STREAMBERG_JSON_BYTE_READER=off).
   */
  byteReader?: boolean;
}
