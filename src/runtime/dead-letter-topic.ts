// Dead letters to a Kafka topic (`dead_letter: { topic: ... }`): each keeps its original key and
// value, with the reason and its source position in headers. They are held per epoch and sent
// just before that epoch's table commit, so they are never lost; a crash between the send and
// the commit replays the epoch and sends them again (at least once, unlike the dead-letter
// table, which is exactly once).

import * as arrow from 'apache-arrow';
import type { Kafka, Producer } from 'kafkajs';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError } from '../errors.js';

/** Above kafkajs' own request timeout (30 s) and its retries. */
const SEND_DEADLINE_MS = 90_000;

interface Letter {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export class DeadLetterTopic {
  private producer: Producer | undefined;
  private readonly byEpoch = new Map<number, Letter[]>();

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {}

  /** Holds the dead letters of one IPC batch for `epoch`. */
  add(epoch: number, ipc: Uint8Array): number {
    const letters = this.byEpoch.get(epoch) ?? [];
    this.byEpoch.set(epoch, letters);
    let n = 0;
    for (const batch of arrow.tableFromIPC(ipc).batches) {
      const col = (name: string) => batch.getChild(name)!;
      const [topic, partition, offset, ts, key, value, code, message] = [
        'source_topic', 'source_partition', 'source_offset', 'source_timestamp', 'record_key', 'record_value', 'error_code', 'error_message',
      ].map(col) as arrow.Vector[];
      for (let i = 0; i < batch.numRows; i++, n++) {
        const k = key!.get(i) as Uint8Array | null;
        const v = value!.get(i) as Uint8Array | null;
        // Arrow's getter already gives a timestamp column's value in epoch milliseconds, whatever
        // its unit (this column holds microseconds): no further division.
        const t = ts!.get(i) as number | bigint | null;
        letters.push({
          key: k === null ? null : Buffer.from(k),
          value: v === null ? null : Buffer.from(v),
          headers: {
            'dlq-source-topic': String(topic!.get(i)),
            'dlq-source-partition': String(partition!.get(i)),
            'dlq-source-offset': String(offset!.get(i)),
            ...(t === null ? {} : { 'dlq-source-timestamp-ms': String(Math.floor(Number(t))) }),
            'dlq-error-code': String(code!.get(i)),
            'dlq-error-message': String(message!.get(i)),
          },
        });
      }
    }
    return n;
  }

  /** Sends every held dead letter of epochs up to `epoch`. */
  async flush(epoch: number): Promise<void> {
    const due = [...this.byEpoch.keys()].filter((e) => e <= epoch).sort((a, b) => a - b);
    const messages = due.flatMap((e) => this.byEpoch.get(e)!);
    if (messages.length > 0) {
      const send = async () => {
        if (!this.producer) {
          this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
          await this.producer.connect();
        }
        await this.producer.send({ topic: this.topic, messages, acks: -1 });
      };
      try {
        await withDeadline(send(), SEND_DEADLINE_MS, () => new StreamError('KAFKA_UNAVAILABLE', `no answer to dead letters sent to ${this.topic} within ${SEND_DEADLINE_MS / 1000} s`));
      } catch (err) {
        // The next checkpoint sends again over fresh connections: a kafkajs connection cut
        // mid-answer never answers again (see kafka/fetch-loop.ts).
        letGo(this.producer);
        this.producer = undefined;
        throw err;
      }
    }
    for (const e of due) this.byEpoch.delete(e);
  }

  async close(): Promise<void> {
    if (this.producer) await withDeadline(this.producer.disconnect(), 5_000, () => new Error('disconnect')).catch(() => {});
  }
}
