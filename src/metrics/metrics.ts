// Every metric the runtime exports, on one prom-client registry that the caller injects (tests
// make their own). Names follow Prometheus conventions: base units, `_total` for counters,
// `_seconds` and `_bytes` suffixes. Work counted on worker threads reaches this registry through
// the messages those threads send back (transform stats, sink acks), so the main thread is the
// only writer and no cross-thread registry aggregation is needed.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const PIPELINE_STATES = ['starting', 'running', 'degraded', 'restarting', 'stopping', 'stopped', 'failed'] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

/**
 * How often the event-loop delay histogram (`streamberg_nodejs_eventloop_lag_*`) samples the main
 * thread. prom-client's default, 10 ms, is a timer that wakes the thread 100 times a second: an
 * otherwise idle Node.js 22 process spent 4.5–5.5 ms of CPU per second on it here (20 ms: 3.2,
 * 50 ms: 1.4, 100 ms: 0.8), which was most of what one pipeline at rest cost. At 100 ms a stall
 * of 100 ms or more is always seen and a shorter one in proportion to its length.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class RuntimeMetrics {
  readonly recordsIn: Counter<'pipeline' | 'partition'>;
  readonly bytesIn: Counter<'pipeline' | 'partition'>;
  readonly recordsOut: Counter<'pipeline' | 'table'>;
  readonly recordsFiltered: Counter<'pipeline'>;
  readonly deadLetters: Counter<'pipeline' | 'reason'>;
  readonly consumerLag: Gauge<'pipeline' | 'partition'>;
  readonly sourcePartitions: Gauge<'pipeline'>;
  readonly groupRebalances: Counter<'pipeline'>;
  readonly partitionsFenced: Counter<'pipeline'>;
  readonly batchLatency: Histogram<'pipeline'>;
  readonly checkpointDuration: Histogram<'pipeline'>;
  readonly checkpointSize: Gauge<'pipeline'>;
  readonly lastCompletedEpoch: Gauge<'pipeline'>;
  readonly commitRetries: Counter<'pipeline' | 'table'>;
  readonly commitFailures: Counter<'pipeline' | 'table'>;
  readonly actorRestarts: Counter<'pipeline' | 'actor'>;
  readonly pipelineState: Gauge<'pipeline' | 'state'>;
  readonly pipelineDegraded: Gauge<'pipeline'>;
  readonly poolUtilization: Gauge;
  readonly poolQueueSize: Gauge;
  readonly bufferedBytes: Gauge<'pipeline'>;
  readonly consumerLagSeconds: Gauge<'pipeline' | 'partition'>;
  readonly checkpointInterval: Gauge;
  readonly checkpointCompletedAt: Gauge<'pipeline'>;
  readonly committedEventTime: Gauge<'pipeline'>;
  readonly tableCommittedAt: Gauge<'pipeline' | 'table'>;
  readonly commits: Counter<'pipeline' | 'table'>;
  readonly committedBytes: Counter<'pipeline' | 'table'>;
  readonly commitDuration: Histogram<'pipeline' | 'table'>;
  readonly tableManifests: Gauge<'pipeline' | 'table'>;
  readonly tableDataFiles: Gauge<'pipeline' | 'table'>;
  readonly tableSnapshots: Gauge<'pipeline' | 'table'>;
  readonly snapshotsExpired: Counter<'table'>;
  readonly filesCompacted: Counter<'table'>;
  readonly maintenanceFilesDeleted: Counter<'table' | 'kind'>;
  readonly maintenanceFailures: Counter<'table' | 'task'>;
  readonly snapshotsRetained: Gauge<'table'>;

  constructor(readonly registry: Registry = new Registry(), options: { processMetrics?: boolean } = {}) {
    const r = [registry];
    this.recordsIn = new Counter({ name: 'streamberg_records_in_total', help: 'Kafka records read, per pipeline and partition', labelNames: ['pipeline', 'partition'], registers: r });
    this.bytesIn = new Counter({ name: 'streamberg_bytes_in_total', help: 'Bytes of Kafka record values read', labelNames: ['pipeline', 'partition'], registers: r });
    this.recordsOut = new Counter({ name: 'streamberg_records_out_total', help: 'Rows committed to Iceberg tables', labelNames: ['pipeline', 'table'], registers: r });
    this.recordsFiltered = new Counter({ name: 'streamberg_records_filtered_total', help: 'Records the transformation dropped on purpose (WHERE, filter)', labelNames: ['pipeline'], registers: r });
    this.deadLetters = new Counter({ name: 'streamberg_dead_letters_total', help: 'Records that could not be decoded or transformed, by reason', labelNames: ['pipeline', 'reason'], registers: r });
    this.consumerLag = new Gauge({ name: 'streamberg_consumer_lag_records', help: 'High watermark minus next offset to read', labelNames: ['pipeline', 'partition'], registers: r });
    this.sourcePartitions = new Gauge({ name: 'streamberg_source_partitions', help: 'Partitions of the source topic the pipeline reads in this process (grows as partitions are discovered; under scale-out, those the group assigned)', labelNames: ['pipeline'], registers: r });
    this.groupRebalances = new Counter({ name: 'streamberg_group_rebalances_total', help: 'Scale-out: assignment changes of the pipeline in its consumer group (partitions assigned, revoked or lost)', labelNames: ['pipeline'], registers: r });
    this.partitionsFenced = new Counter({ name: 'streamberg_partitions_fenced_total', help: 'Scale-out: partitions this process found claimed by another one, and gave up', labelNames: ['pipeline'], registers: r });
    this.batchLatency = new Histogram({
      name: 'streamberg_batch_latency_seconds',
      help: 'Time from a batch leaving Kafka to its rows reaching the sink',
      labelNames: ['pipeline'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.checkpointDuration = new Histogram({
      name: 'streamberg_checkpoint_duration_seconds',
      help: 'Time from checkpoint trigger to its commit',
      labelNames: ['pipeline'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: r,
    });
    this.checkpointSize = new Gauge({ name: 'streamberg_checkpoint_size_bytes', help: 'Bytes of data files in the last completed checkpoint', labelNames: ['pipeline'], registers: r });
    this.lastCompletedEpoch = new Gauge({ name: 'streamberg_checkpoint_last_completed_epoch', help: 'Epoch of the last committed checkpoint', labelNames: ['pipeline'], registers: r });
    this.commitRetries = new Counter({ name: 'streamberg_commit_retries_total', help: 'Iceberg commits retried after a conflict', labelNames: ['pipeline', 'table'], registers: r });
    this.commitFailures = new Counter({ name: 'streamberg_commit_failures_total', help: 'Iceberg commits that failed for good', labelNames: ['pipeline', 'table'], registers: r });
    this.actorRestarts = new Counter({ name: 'streamberg_actor_restarts_total', help: 'Actors restarted after a failure', labelNames: ['pipeline', 'actor'], registers: r });
    this.pipelineState = new Gauge({ name: 'streamberg_pipeline_state', help: '1 for the state each pipeline is in, 0 for the others', labelNames: ['pipeline', 'state'], registers: r });
    this.pipelineDegraded = new Gauge({
      name: 'streamberg_pipeline_degraded',
      help: '1 while a pipeline rides out an outage of the broker, the catalog or the warehouse, else 0',
      labelNames: ['pipeline'],
      registers: r,
    });
    this.poolUtilization = new Gauge({ name: 'streamberg_transform_pool_utilization_ratio', help: 'Share of transform worker time spent running tasks', registers: r });
    this.poolQueueSize = new Gauge({ name: 'streamberg_transform_pool_queue_tasks', help: 'Transform tasks waiting for a worker', registers: r });
    this.bufferedBytes = new Gauge({ name: 'streamberg_sink_buffered_bytes', help: 'Bytes sent to a sink and not yet taken off its queue', labelNames: ['pipeline'], registers: r });
    // Freshness, as Unix timestamps in seconds (Prometheus' convention for "when"): an alert or a
    // panel takes `time() - x`, which keeps growing while nothing happens, where an "age" gauge set
    // by the process would freeze at its last value when the process stops being scraped.
    this.consumerLagSeconds = new Gauge({
      name: 'streamberg_consumer_lag_seconds',
      help: 'While a partition has records left to read: now minus the Kafka timestamp of the newest record read from it; 0 when caught up',
      labelNames: ['pipeline', 'partition'],
      registers: r,
    });
    this.checkpointInterval = new Gauge({ name: 'streamberg_checkpoint_interval_seconds', help: 'The configured time between checkpoints', registers: r });
    this.checkpointCompletedAt = new Gauge({
      name: 'streamberg_checkpoint_last_completed_timestamp_seconds',
      help: 'When the last checkpoint completed (committed, or had nothing to commit)',
      labelNames: ['pipeline'],
      registers: r,
    });
    this.committedEventTime = new Gauge({
      name: 'streamberg_committed_event_timestamp_seconds',
      help: 'The newest Kafka record timestamp among the records the last completed checkpoint covers',
      labelNames: ['pipeline'],
      registers: r,
    });
    this.tableCommittedAt = new Gauge({ name: 'streamberg_table_last_commit_timestamp_seconds', help: 'When a snapshot was last committed to the table', labelNames: ['pipeline', 'table'], registers: r });
    this.commits = new Counter({ name: 'streamberg_commits_total', help: 'Snapshots committed to Iceberg tables', labelNames: ['pipeline', 'table'], registers: r });
    this.committedBytes = new Counter({ name: 'streamberg_committed_bytes_total', help: 'Bytes of data files committed to Iceberg tables', labelNames: ['pipeline', 'table'], registers: r });
    this.commitDuration = new Histogram({
      name: 'streamberg_commit_duration_seconds',
      help: 'Time to commit one snapshot to a table, retries on conflict included',
      labelNames: ['pipeline', 'table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    // What a table costs its readers and each next commit: they must stay level over months.
    this.tableManifests = new Gauge({ name: 'streamberg_table_manifests', help: 'Manifests in the current snapshot of the table, as last committed', labelNames: ['pipeline', 'table'], registers: r });
    this.tableDataFiles = new Gauge({ name: 'streamberg_table_data_files', help: 'Data files in the current snapshot of the table, as last committed', labelNames: ['pipeline', 'table'], registers: r });
    this.tableSnapshots = new Gauge({ name: 'streamberg_table_snapshots', help: 'Snapshots the table retains, as last committed', labelNames: ['pipeline', 'table'], registers: r });
    this.snapshotsExpired = new Counter({ name: 'streamberg_maintenance_snapshots_expired_total', help: 'Snapshots removed by the runtime\'s snapshot expiry', labelNames: ['table'], registers: r });
    this.filesCompacted = new Counter({ name: 'streamberg_maintenance_files_compacted_total', help: 'Small data files rewritten by the runtime\'s compaction', labelNames: ['table'], registers: r });
    this.maintenanceFilesDeleted = new Counter({
      name: 'streamberg_maintenance_files_deleted_total',
      help: 'Files deleted by table maintenance: kind data, manifest, manifest_list, statistics (of expired snapshots) or orphan',
      labelNames: ['table', 'kind'],
      registers: r,
    });
    this.maintenanceFailures = new Counter({ name: 'streamberg_maintenance_failures_total', help: 'Maintenance runs that failed (retried at the next interval)', labelNames: ['table', 'task'], registers: r });
    this.snapshotsRetained = new Gauge({ name: 'streamberg_maintenance_snapshots_retained', help: 'Snapshots in the table\'s metadata after the last maintenance run', labelNames: ['table'], registers: r });
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: registry, prefix: 'streamberg_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
      // prom-client names these gauges `_total`, which the exposition-format lint (promtool check
      // metrics) rejects: a `_total` suffix promises a counter.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        registry.removeSingleMetric(`streamberg_${name}`);
      }
    }
  }

  setState(pipeline: string, state: PipelineState): void {
    for (const s of PIPELINE_STATES) this.pipelineState.set({ pipeline, state: s }, s === state ? 1 : 0);
    this.pipelineDegraded.set({ pipeline }, state === 'degraded' ? 1 : 0);
  }
}
