// The heavy half of compaction: reading a group of small Parquet files back and writing their
// rows again into files of the table's target size. compact.ts plans and commits; this does the
// Parquet decoding and encoding, which is CPU-bound and synchronous inside parquet-wasm, so the
// runtime runs it on a worker thread (runtime/threads/rewrite-thread.ts) to keep the main
// thread's event loop (sources, commits, metrics) turning. `maintain`, a one-off command with
// nothing else to serve, runs it on its main thread.
//
// Hazard: the files written are invisible until compaction commits them; whoever calls this owns
// them and deletes them if the commit does not happen.

import * as arrow from 'apache-arrow';
import { randomBytes } from 'node:crypto';
import * as pq from 'parquet-wasm/node';
import { StreamError } from '../errors.js';
import type { LoadedTable } from './catalog.js';
import type { FileIO } from './file-io.js';
import { newDataFileWriter, type DataFile } from './data-file-writer.js';

/** A live data file picked for rewriting, as its manifest entry describes it. */
export interface RewriteInput {
  path: string;
  size: number;
  records: number;
  partitionKey: string;
}

export interface RewriteOutput {
  /** The inputs whose rows are in `added` (a file of another schema is left for a later round). */
  replaced: RewriteInput[];
  added: DataFile[];
}

/** Where a rewrite is: a file's bytes are about to be decoded, or it has been. */
export type RewriteProgress = { kind: 'decoding' | 'decoded'; path: string };

/** Rewrites one group of one partition; how and on which thread is the implementation's choice. */
export type FileRewriter = (table: LoadedTable, group: readonly RewriteInput[], onProgress?: (p: RewriteProgress) => void) => Promise<RewriteOutput>;

/** Reads the group's files and writes their rows again, on the calling thread. */
export async function rewriteFiles(io: FileIO, table: LoadedTable, group: readonly RewriteInput[], onProgress?: (p: RewriteProgress) => void): Promise<RewriteOutput> {
  const replaced: RewriteInput[] = [];
  let writer: ReturnType<typeof newDataFileWriter> | undefined;
  let names: string | undefined;
  let rows = 0;
  try {
    for (const e of group) {
      const bytes = await io.read(e.path);
      onProgress?.({ kind: 'decoding', path: e.path });
      const read = arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream());
      onProgress?.({ kind: 'decoded', path: e.path });
      const signature = read.schema.fields.map((f) => f.name).join('\u0000');
      // Files written before a schema change have other columns: left for a later round.
      if (names !== undefined && signature !== names) continue;
      if (read.numRows !== e.records) {
        throw new StreamError('METADATA_INVALID', `data file ${e.path} holds ${read.numRows} rows, its manifest entry says ${e.records}`, { details: { path: e.path } });
      }
      names = signature;
      writer ??= newDataFileWriter(table, io, read.schema, { writerId: `compact-${randomBytes(4).toString('hex')}` });
      // Encoded as read: one input file's rows are held at a time, not the group's.
      for (const b of read.batches) await writer.write(b);
      rows += read.numRows;
      replaced.push(e);
    }
  } catch (err) {
    writer?.discard();
    throw err;
  }
  const added = writer ? await writer.close() : [];
  const written = added.reduce((n, f) => n + f.recordCount, 0);
  if (written !== rows) {
    throw new StreamError('METADATA_INVALID', `compaction read ${rows} rows and wrote ${written}; nothing committed`, { details: { files: replaced.length } });
  }
  return { replaced, added };
}
