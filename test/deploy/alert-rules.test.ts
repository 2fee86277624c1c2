// The shipped alert rules (deploy/prometheus/alerts.yaml) run by Prometheus' own rule engine:
// `promtool test rules` feeds series in and compares the alerts that come out, minute by minute.
// Each case below says which alerts must fire, with which labels, and when none may; the
// annotations are rendered from the rules' templates, since promtool compares them too.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../helpers/build.js';

const RULES = path.join(ROOT, 'deploy/prometheus/alerts.yaml');

interface Rule {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = new Map<string, Rule>((parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));

/** An expected alert: the series labels it carries; the rule's own labels and annotations are added. */
function alert(name: string, labels: Record<string, string>) {
  const rule = rules.get(name)!;
  const render = (text: string) => text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => labels[k] ?? '');
  return {
    exp_labels: { ...labels, ...rule.labels },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, render(v)])),
  };
}

interface Case {
  name: string;
  series: Array<{ series: string; values: string }>;
  checks: Array<{ at: string; alert: string; fires: ReturnType<typeof alert>[] }>;
}

const running = (pipeline: string, values = '1x60') => ({ series: `streamberg_pipeline_state{pipeline="${pipeline}",state="running"}`, values });

const CASES: Case[] = [
  {
    name: 'a scrape target down for 2 minutes',
    series: [{ series: 'up{job="streamberg",instance="a:9464"}', values: '1 1 0 0 0 0' }],
    checks: [
      { at: '3m', alert: 'StreambergDown', fires: [] },
      { at: '5m', alert: 'StreambergDown', fires: [alert('StreambergDown', { job: 'streamberg', instance: 'a:9464' })] },
    ],
  },
  {
    name: 'a failed pipeline, not a running one',
    series: [
      { series: 'streamberg_pipeline_state{pipeline="bids",state="failed"}', values: '0 0 1 1 1 1' },
      { series: 'streamberg_pipeline_state{pipeline="users",state="failed"}', values: '0x5' },
    ],
    checks: [
      { at: '2m', alert: 'StreambergPipelineFailed', fires: [] },
      { at: '4m', alert: 'StreambergPipelineFailed', fires: [alert('StreambergPipelineFailed', { pipeline: 'bids', state: 'failed' })] },
    ],
  },
  {
    name: 'degraded for 10 minutes, not for 5',
    series: [
      { series: 'streamberg_pipeline_degraded{pipeline="bids"}', values: '1x15' },
      { series: 'streamberg_pipeline_degraded{pipeline="users"}', values: '0 1 1 1 1 1 0 0 0 0 0 0 0 0 0 0' },
    ],
    checks: [
      { at: '5m', alert: 'StreambergPipelineDegraded', fires: [] },
      { at: '11m', alert: 'StreambergPipelineDegraded', fires: [alert('StreambergPipelineDegraded', { pipeline: 'bids' })] },
    ],
  },
  {
    name: 'checkpoints that stop completing while the pipeline runs',
    series: [
      { series: 'streamberg_checkpoint_interval_seconds', values: '10x20' },
      // bids completes a checkpoint every minute, then none after minute 5; users every minute.
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="bids"}', values: '0+60x5 300x15' },
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="users"}', values: '0+60x20' },
      running('bids'),
      running('users'),
    ],
    checks: [
      { at: '5m', alert: 'StreambergCheckpointsStalled', fires: [] },
      { at: '7m', alert: 'StreambergCheckpointsStalled', fires: [] }, // pending: late since 6m
      { at: '9m', alert: 'StreambergCheckpointsStalled', fires: [alert('StreambergCheckpointsStalled', { pipeline: 'bids' })] },
    ],
  },
  {
    // Several processes (README, "Running several processes"): one interval series per scrape
    // target, which a match on no label at all cannot pair with a pipeline's.
    name: 'checkpoints that stop completing in one of two processes',
    series: [
      { series: 'streamberg_checkpoint_interval_seconds{instance="a:9464"}', values: '10x20' },
      { series: 'streamberg_checkpoint_interval_seconds{instance="b:9464"}', values: '10x20' },
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="bids",instance="a:9464"}', values: '0+60x5 300x15' },
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="bids",instance="b:9464"}', values: '0+60x20' },
      { series: 'streamberg_pipeline_state{pipeline="bids",state="running",instance="a:9464"}', values: '1x20' },
      { series: 'streamberg_pipeline_state{pipeline="bids",state="running",instance="b:9464"}', values: '1x20' },
    ],
    checks: [
      { at: '5m', alert: 'StreambergCheckpointsStalled', fires: [] },
      { at: '9m', alert: 'StreambergCheckpointsStalled', fires: [alert('StreambergCheckpointsStalled', { pipeline: 'bids', instance: 'a:9464' })] },
    ],
  },
  {
    // A process that gave all its partitions of a pipeline to others stands by, `running`, and
    // completes no checkpoint for it: its last one ages without anything being wrong.
    name: 'not a process standing by for a pipeline, its last checkpoint ageing',
    series: [
      { series: 'streamberg_checkpoint_interval_seconds{instance="a:9464"}', values: '10x20' },
      { series: 'streamberg_checkpoint_interval_seconds{instance="b:9464"}', values: '10x20' },
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="bids",instance="a:9464"}', values: '0+60x5 300x15' },
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="bids",instance="b:9464"}', values: '0+60x20' },
      { series: 'streamberg_source_partitions{pipeline="bids",instance="a:9464"}', values: '2 2 2 2 2 0x15' },
      { series: 'streamberg_source_partitions{pipeline="bids",instance="b:9464"}', values: '2 2 2 2 2 4x15' },
      { series: 'streamberg_pipeline_state{pipeline="bids",state="running",instance="a:9464"}', values: '1x20' },
      { series: 'streamberg_pipeline_state{pipeline="bids",state="running",instance="b:9464"}', values: '1x20' },
    ],
    checks: [{ at: '12m', alert: 'StreambergCheckpointsStalled', fires: [] }],
  },
  {
    name: 'a running pipeline that never completed a checkpoint',
    series: [
      running('bids', '1x30'),
      running('users', '1x30'),
      { series: 'streamberg_checkpoint_last_completed_timestamp_seconds{pipeline="users"}', values: '0+60x30' },
    ],
    checks: [
      { at: '10m', alert: 'StreambergNoCheckpointSinceStart', fires: [] },
      { at: '16m', alert: 'StreambergNoCheckpointSinceStart', fires: [alert('StreambergNoCheckpointSinceStart', { pipeline: 'bids', state: 'running' })] },
    ],
  },
  {
    name: 'a table whose newest committed record grows old while records wait, but not an idle one',
    series: [
      // Both committed a record written at t=0 and nothing newer; only bids has records waiting.
      { series: 'streamberg_committed_event_timestamp_seconds{pipeline="bids"}', values: '0x40' },
      { series: 'streamberg_committed_event_timestamp_seconds{pipeline="users"}', values: '0x40' },
      { series: 'streamberg_consumer_lag_records{pipeline="bids",partition="0"}', values: '500x40' },
      { series: 'streamberg_consumer_lag_records{pipeline="users",partition="0"}', values: '0x40' },
    ],
    checks: [
      { at: '14m', alert: 'StreambergTableStale', fires: [] },
      { at: '21m', alert: 'StreambergTableStale', fires: [alert('StreambergTableStale', { pipeline: 'bids' })] },
    ],
  },
  {
    name: 'lag that keeps growing past its threshold, but not lag that is high and shrinking',
    series: [
      { series: 'streamberg_consumer_lag_records{pipeline="bids",partition="0"}', values: '20000+1000x40' },
      { series: 'streamberg_consumer_lag_records{pipeline="users",partition="0"}', values: '90000-1000x40' },
    ],
    checks: [
      { at: '10m', alert: 'StreambergLagGrowing', fires: [] },
      { at: '30m', alert: 'StreambergLagGrowing', fires: [alert('StreambergLagGrowing', { pipeline: 'bids' })] },
    ],
  },
  {
    name: 'dead letters above 1% of the records, not below',
    series: [
      { series: 'streamberg_records_in_total{pipeline="bids",partition="0"}', values: '0+6000x30' },
      { series: 'streamberg_dead_letters_total{pipeline="bids",reason="RECORD_DECODE_FAILED"}', values: '0+300x30' },
      { series: 'streamberg_records_in_total{pipeline="users",partition="0"}', values: '0+6000x30' },
      { series: 'streamberg_dead_letters_total{pipeline="users",reason="RECORD_DECODE_FAILED"}', values: '0+6x30' },
    ],
    checks: [
      { at: '8m', alert: 'StreambergDeadLetters', fires: [] },
      { at: '20m', alert: 'StreambergDeadLetters', fires: [alert('StreambergDeadLetters', { pipeline: 'bids' })] },
    ],
  },
  {
    name: 'a commit failure, and quiet again 15 minutes later',
    series: [{ series: 'streamberg_commit_failures_total{pipeline="bids",table="parsed_events"}', values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1' }],
    checks: [
      { at: '2m', alert: 'StreambergCommitFailures', fires: [] },
      { at: '5m', alert: 'StreambergCommitFailures', fires: [alert('StreambergCommitFailures', { pipeline: 'bids', table: 'parsed_events' })] },
      { at: '24m', alert: 'StreambergCommitFailures', fires: [] },
    ],
  },
  {
    name: 'restarts: more than 3 in 15 minutes across a pipeline’s actors',
    series: [
      { series: 'streamberg_actor_restarts_total{pipeline="bids",actor="sink"}', values: '0 1 2 2 2 2' },
      { series: 'streamberg_actor_restarts_total{pipeline="bids",actor="transform"}', values: '0 0 1 2 2 2' },
      { series: 'streamberg_actor_restarts_total{pipeline="users",actor="sink"}', values: '0 1 2 3 3 3' },
    ],
    checks: [
      { at: '2m', alert: 'StreambergRestarts', fires: [] },
      { at: '5m', alert: 'StreambergRestarts', fires: [alert('StreambergRestarts', { pipeline: 'bids' })] },
    ],
  },
];

describe('the shipped alert rules', () => {
  it('every rule has a case', () => {
    expect(new Set(CASES.flatMap((c) => c.checks.map((k) => k.alert)))).toEqual(new Set(rules.keys()));
  });

  it('promtool checks the rules file', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it.each(CASES)('$name', (c) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alert-rules-'));
    const file = path.join(dir, 'test.yaml');
    writeFileSync(
      file,
      stringify({
        rule_files: [RULES],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: c.series, alert_rule_test: c.checks.map((k) => ({ eval_time: k.at, alertname: k.alert, exp_alerts: k.fires })) }],
      }),
    );
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
