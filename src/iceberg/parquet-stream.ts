// One Parquet file encoded as its rows arrive: each Arrow record batch goes into parquet-wasm's
// streaming writer when it is pushed, and the file's bytes go to `out` as the writer makes them
// (a row group's column chunks when it is finished, the footer at the end). The caller holds no
// rows; the row group being built is in WebAssembly memory.

import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm/node';

interface Offer {
  batch: pq.RecordBatch;
  taken: () => void;
}

export class ParquetStreamEncoder {
  private length = 0;
  private offer: Offer | null = null;
  private ending = false;
  /** Wakes the writer's pending read when a batch is offered or the input ends. */
  private wake: (() => void) | null = null;
  private failure: unknown = null;
  private readonly failed: Promise<never>;
  private readonly drained: Promise<void>;

  constructor(
    props: pq.WriterProperties,
    out: (bytes: Uint8Array) => Promise<void>,
  ) {
    const input = new ReadableStream<pq.RecordBatch>(
      {
        // Called when the writer wants its next batch: it gets the one on offer, or waits for one.
        pull: (controller) =>
          new Promise<void>((resolve) => {
            const serve = (): void => {
              this.wake = null;
              if (this.offer) {
                const { batch, taken } = this.offer;
                this.offer = null;
                controller.enqueue(batch);
                taken();
              } else {
                controller.close();
              }
              resolve();
            };
            if (this.offer || this.ending) serve();
            else this.wake = serve;
          }),
      },
      // Pulled only when the writer asks: one batch in WebAssembly memory at a time.
      { highWaterMark: 0 },
    );
    this.drained = (async () => {
      const output = (await pq.transformParquetStream(input, props)) as ReadableStream<Uint8Array>;
      for await (const chunk of output) {
        this.length += chunk.length;
        await out(chunk);
      }
    })();
    this.failed = this.drained.then(
      () => Promise.reject(new Error('the Parquet writer ended before its input did')),
      (err: unknown) => {
        this.failure = err;
        throw err;
      },
    );
    // Observed here; push and finish report it to their callers.
    this.failed.catch(() => {});
  }

  /** Bytes of the file handed to `out` so far (row groups already finished). */
  get outputBytes(): number {
    return this.length;
  }

  /**
   * Hands one batch to the writer and resolves when the writer has taken it. The batch is copied
   * into WebAssembly memory (an Arrow IPC message of it); the caller may drop it afterwards.
   */
  async push(batch: arrow.RecordBatch): Promise<void> {
    this.check();
    const table = pq.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(batch.schema, [batch]), 'stream'));
    let wasmBatch: pq.RecordBatch;
    try {
      wasmBatch = table.recordBatch(0)!;
    } finally {
      table.free();
    }
    await this.offerBatch(wasmBatch);
  }

  /**
   * Hands the writer a batch already in WebAssembly memory (read from an IPC stream); the writer
   * takes it over (frees it), so the caller must not use it again.
   */
  async pushEncoded(batch: pq.RecordBatch): Promise<void> {
    try {
      this.check();
    } catch (err) {
      batch.free();
      throw err;
    }
    await this.offerBatch(batch);
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
    if (this.ending) throw new Error('push after finish');
    if (this.offer) throw new Error('push before the previous batch was taken');
  }

  private async offerBatch(batch: pq.RecordBatch): Promise<void> {
    // Hazard: the writer takes (frees) the batch it reads; it is not touched here after the offer.
    const taken = new Promise<void>((resolve) => {
      this.offer = { batch, taken: resolve };
    });
    this.wake?.();
    await Promise.race([taken, this.failed]);
  }

  /**
   * Ends the input, so the writer finishes and its state in WebAssembly memory goes; the caller
   * drops what reached `out`.
   */
  discard(): void {
    this.ending = true;
    this.wake?.();
    this.drained.catch(() => {});
  }

  /** Ends the input; resolves with the file's length once its last bytes went to `out`. */
  async finish(): Promise<number> {
    this.ending = true;
    this.wake?.();
    await this.drained;
    return this.length;
  }
}
