// The sink actor of one table, on its own worker thread: writes incoming Arrow batches to
// Parquet data files, aligns the barriers of all its input partitions, and on an aligned
// barrier closes that epoch's files and reports them to the coordinator (which commits them).
//
// Alignment without blocking: rows a partition sends after its barrier for epoch N belong to
// epoch N+1 and go to N+1's writer at once, even while other partitions are still before their
// barrier N. So each epoch has its own writers, and an epoch is closed when every partition has
// passed its barrier. Files are never shared between epochs, so a failed epoch's files are
// simply never committed (they are orphans, left for cleanup).

import * as arrow from 'apache-arrow';
import { newDataFileWriter, type DataFile, type DataFileWriter } from '../iceberg/data-file-writer.js';
import { takeBatch } from '../iceberg/take.js';
import type { LoadedTable } from '../iceberg/catalog.js';
import { fileIOFor, type FileIO } from '../iceberg/file-io.js';
import { StreamError, toStreamError } from '../errors.js';
import { releaseBytes } from '../release-bytes.js';
import type { SinkCommand, SinkEvent } from './threads/sink-messages.js';
import type { CatalogConfig } from '../config/types.js';

export interface SinkActorInit {
  pipelineId: string;
  catalog: CatalogConfig;
  /**
   * The tables as the pipeline opened them on the main thread (plain data): files are written
   * for their current schema and spec. The catalog itself stays on the main thread, which commits.
   */
  table: LoadedTable;
  /** Null when dead letters are not written to a table. */
  deadLetterTable: LoadedTable | null;
  partitions: number[];
  firstEpoch: number;
  /** Per partition: dead letters below this offset are already committed to the dead-letter table. */
  deadLetterFloor: Array<[number, bigint]>;
  /**
   * Encoded bytes an epoch's open files may hold before they are written early. Files roll at
   * the table's target size (512 MB by default) otherwise, which could exceed the memory budget.
   */
  maxBufferedBytes: number;
}

interface EpochState {
  rows: DataFileWriter | undefined;
  deadLetters: DataFileWriter | undefined;
  /** Files already written for this epoch (early, to stay within the memory budget). */
  written: DataFile[];
  writtenDeadLetters: DataFile[];
  rowCount: number;
  deadLetterCount: number;
  bytes: number;
  offsets: Map<number, bigint>;
}

export class SinkActor {
  private readonly io: FileIO;
  private readonly deadLetterIo: FileIO;
  private readonly table: LoadedTable;
  private readonly deadLetterTable: LoadedTable | null;
  private readonly name: string;
  /** The epoch each partition's next rows belong to. */
  private readonly partitionEpoch = new Map<number, number>();
  private readonly epochs = new Map<number, EpochState>();
  private readonly floor: Map<number, bigint>;
  /** Commands are handled one at a time, in arrival order. */
  private chain: Promise<void> = Promise.resolve();
  private writerSeq = 0;

  constructor(
    private readonly init: SinkActorInit,
    private readonly emit: (event: SinkEvent, transfer?: ArrayBuffer[]) => void,
  ) {
    for (const p of init.partitions) this.partitionEpoch.set(p, init.firstEpoch);
    // Each table with the FileIO properties its catalog handed out (a REST catalog vends
    // credentials per table).
    this.io = fileIOFor(init.catalog, init.table.fileIO);
    this.deadLetterIo = init.deadLetterTable ? fileIOFor(init.catalog, init.deadLetterTable.fileIO) : this.io;
    this.table = init.table;
    this.deadLetterTable = init.deadLetterTable;
    this.name = init.table.ident.name;
    this.floor = new Map(init.deadLetterFloor);
  }

  start(): void {
    this.emit({ kind: 'started' });
  }

  /** Queues a command; failures are reported as a `failed` event and stop further work. */
  handle(cmd: SinkCommand): void {
    this.chain = this.chain.then(() => this.apply(cmd));
    this.chain.catch((err: unknown) => {
      // A foreign error is classified as the storage's (an EACCES on a read-only warehouse is an
      // outage to ride out, not an internal fault), and keeps its own message and code as cause.
      const cause = toStreamError(err, 'ACTOR_FAILED', 'storage');
      const e = err instanceof StreamError ? err : new StreamError(cause.code, `sink ${this.name}: ${cause.message}`, { cause, retryable: cause.retryable });
      this.emit({ kind: 'failed', error: e.toJSON() });
      // Nothing after a failure may be written: the pipeline restarts from its last commit.
      this.chain = new Promise(() => {});
      for (const epoch of this.epochs.values()) {
        epoch.rows?.discard();
        epoch.deadLetters?.discard();
      }
      this.epochs.clear();
    });
  }

  private epochState(epoch: number): EpochState {
    let s = this.epochs.get(epoch);
    if (!s) {
      s = { rows: undefined, deadLetters: undefined, written: [], writtenDeadLetters: [], rowCount: 0, deadLetterCount: 0, bytes: 0, offsets: new Map() };
      this.epochs.set(epoch, s);
    }
    return s;
  }

  private writerId(epoch: number): string {
    return `${this.init.pipelineId.replace(/[^A-Za-z0-9_-]/g, '_')}-e${epoch}-${process.pid}-${Date.now().toString(36)}-${this.writerSeq++}`;
  }

  private async apply(cmd: SinkCommand): Promise<void> {
    switch (cmd.kind) {
      case 'data': {
        const epoch = this.partitionEpoch.get(cmd.partition);
        if (epoch === undefined) throw new StreamError('ACTOR_FAILED', `sink ${this.name}: data from unknown partition ${cmd.partition}`);
        const s = this.epochState(epoch);
        if (cmd.parts !== undefined) {
          // Prepared by the transform worker: each batch is encoded as it is, nothing read here.
          if (cmd.parts.length > 0) {
            s.rows ??= newDataFileWriter(this.table, this.io, undefined, { writerId: this.writerId(epoch) });
            await s.rows.writePrepared(cmd.rows, cmd.parts);
            for (const part of cmd.parts) s.rowCount += part.rows;
            if (s.rows.bufferedBytes > this.init.maxBufferedBytes) s.written.push(...(await s.rows.close()));
          }
        } else {
          for (const batch of arrow.tableFromIPC(cmd.rows).batches) {
            if (batch.numRows === 0) continue;
            s.rows ??= newDataFileWriter(this.table, this.io, batch.schema, { writerId: this.writerId(epoch) });
            await s.rows.write(batch);
            s.rowCount += batch.numRows;
            if (s.rows.bufferedBytes > this.init.maxBufferedBytes) s.written.push(...(await s.rows.close()));
          }
        }
        if (cmd.deadLetters !== null && this.deadLetterTable) {
          for (const raw of arrow.tableFromIPC(cmd.deadLetters).batches) {
            const batch = this.aboveFloor(cmd.partition, raw);
            if (batch.numRows === 0) continue;
            s.deadLetters ??= newDataFileWriter(this.deadLetterTable, this.deadLetterIo, batch.schema, { writerId: this.writerId(epoch) });
            await s.deadLetters.write(batch);
            s.deadLetterCount += batch.numRows;
            if (s.deadLetters.bufferedBytes > this.init.maxBufferedBytes) s.writtenDeadLetters.push(...(await s.deadLetters.close()));
          }
        }
        // Encoded: the rows are in the writers' files now, and these bytes go at once instead of
        // at this thread's next garbage collection.
        releaseBytes(cmd.rows);
        releaseBytes(cmd.deadLetters);
        s.bytes += cmd.bytes;
        this.emit({ kind: 'consumed', bytes: cmd.bytes });
        return;
      }
      case 'barrier': {
        const current = this.partitionEpoch.get(cmd.partition);
        if (current !== cmd.epoch) {
          throw new StreamError('CHECKPOINT_FAILED', `sink ${this.name}: barrier ${cmd.epoch} from partition ${cmd.partition}, which is at epoch ${String(current)}`);
        }
        this.epochState(cmd.epoch).offsets.set(cmd.partition, cmd.nextOffset);
        this.partitionEpoch.set(cmd.partition, cmd.epoch + 1);
        const aligned = [...this.partitionEpoch.values()].every((e) => e > cmd.epoch);
        if (aligned) await this.closeEpoch(cmd.epoch);
        return;
      }
      case 'add-partition': {
        // Hazard: a partition counted twice, or joining at an epoch already behind it, would make
        // alignment wait for a barrier that never comes (or close an epoch early).
        const current = this.partitionEpoch.get(cmd.partition);
        if (current !== undefined) throw new StreamError('ACTOR_FAILED', `sink ${this.name}: partition ${cmd.partition} added twice (it is at epoch ${current})`);
        const open = this.partitionEpoch.size > 0 ? Math.min(...this.partitionEpoch.values()) : cmd.firstEpoch;
        if (cmd.firstEpoch < open) {
          throw new StreamError('CHECKPOINT_FAILED', `sink ${this.name}: partition ${cmd.partition} joins at epoch ${cmd.firstEpoch}, before epoch ${open} the others are in`);
        }
        this.partitionEpoch.set(cmd.partition, cmd.firstEpoch);
        if (cmd.deadLetterFloor !== undefined) this.floor.set(cmd.partition, cmd.deadLetterFloor);
        return;
      }
    }
  }

  private async closeEpoch(epoch: number): Promise<void> {
    const s = this.epochState(epoch);
    this.epochs.delete(epoch);
    const files: DataFile[] = [...s.written, ...(s.rows ? await s.rows.close() : [])];
    const deadLetterFiles: DataFile[] = [...s.writtenDeadLetters, ...(s.deadLetters ? await s.deadLetters.close() : [])];
    this.emit({
      kind: 'checkpoint-ack',
      epoch,
      files,
      deadLetterFiles,
      rows: s.rowCount,
      deadLetters: s.deadLetterCount,
      bytes: files.reduce((n, f) => n + f.fileSizeInBytes, 0) + deadLetterFiles.reduce((n, f) => n + f.fileSizeInBytes, 0),
      offsets: [...s.offsets],
    });
  }

  /**
   * Drops dead letters already committed by an earlier run. The dead-letter table is committed
   * before the main table in each checkpoint; a crash between the two replays that epoch, and
   * its dead letters must not land twice.
   */
  private aboveFloor(partition: number, batch: arrow.RecordBatch): arrow.RecordBatch {
    const floor = this.floor.get(partition);
    if (floor === undefined) return batch;
    const offsets = batch.getChild('source_offset');
    if (!offsets) return batch;
    const keep: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if ((offsets.get(i) as bigint) >= floor) keep.push(i);
    if (keep.length === batch.numRows) {
      this.floor.delete(partition);
      return batch;
    }
    return takeBatch(batch, Int32Array.from(keep));
  }
}
