// Flow control of one pipeline: a partition fetches only while neither its own in-flight bound
// (its source actor's backpressure) nor the sink's buffer budget holds it. Bytes count against
// the budget from the moment a batch is sent to the sink until the sink reports it consumed.
//
// Hazard: pausing and resuming are idempotent commands to the source, sent as whole sets each
// time, so a resume can never undo a pause that another reason still wants.

export interface FlowControlOptions {
  /** Bytes sent to the sink and not yet consumed above which every partition pauses. */
  sinkBudget: number;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /** Partitions that are never resumed again (a bounded run's finished ones). */
  finished(partition: number): boolean;
  /** The buffered byte count, for the metrics. */
  buffered?(bytes: number): void;
}

export class FlowControl {
  private readonly partitions = new Set<number>();
  private readonly pausedByActor = new Set<number>();
  private pausedBySink = false;
  private bufferedBytes = 0;
  /** Once frozen (stopping or closed), every partition stays as it is: the final checkpoint is being taken. */
  private frozen = false;

  constructor(private readonly o: FlowControlOptions) {}

  /** A partition joins; while the sink is over its budget it starts paused, like the others. */
  add(partition: number): void {
    this.partitions.add(partition);
    if (this.pausedBySink && !this.frozen) this.o.pause([partition]);
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  /** A source actor asks for its partition to be paused (too many tasks in flight) or resumed. */
  backpressure(partition: number, paused: boolean): void {
    if (paused) this.pausedByActor.add(partition);
    else this.pausedByActor.delete(partition);
    this.apply();
  }

  /** A batch went to the sink: above the budget, every partition pauses. */
  sent(bytes: number): void {
    this.bufferedBytes += bytes;
    this.o.buffered?.(this.bufferedBytes);
    if (!this.pausedBySink && this.bufferedBytes > this.o.sinkBudget) {
      this.pausedBySink = true;
      this.apply();
    }
  }

  /** The sink took data off its queue: below half the budget, paused partitions fetch again. */
  consumed(bytes: number): void {
    this.bufferedBytes -= bytes;
    this.o.buffered?.(this.bufferedBytes);
    if (this.pausedBySink && this.bufferedBytes <= this.o.sinkBudget / 2) {
      this.pausedBySink = false;
      this.apply();
    }
  }

  /** No more pauses or resumes (the pipeline is stopping or closed); what is paused stays paused. */
  freeze(): void {
    this.frozen = true;
  }

  private apply(): void {
    if (this.frozen) return;
    const pause: number[] = [];
    const resume: number[] = [];
    for (const p of this.partitions) {
      if (this.o.finished(p)) continue;
      if (this.pausedBySink || this.pausedByActor.has(p)) pause.push(p);
      else resume.push(p);
    }
    this.o.pause(pause);
    this.o.resume(resume);
  }
}
