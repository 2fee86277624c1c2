import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer, type Readiness } from '../../src/metrics/server.js';

describe('the metrics port', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /healthz while the process serves, and /readyz by the pipelines, naming those not running', async () => {
    let readiness: Readiness = { ready: false, pipelines: { bids: 'running', users: 'degraded' } };
    server = await startMetricsServer(new Registry(), 0, '127.0.0.1', { readiness: () => readiness });
    const base = `http://127.0.0.1:${server.port}`;

    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(((await live.json()) as { status: string }).status).toBe('ok');

    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, pipelines: { bids: 'running', users: 'degraded' }, notReady: [{ pipeline: 'users', state: 'degraded' }] });

    readiness = { ready: true, pipelines: { bids: 'running', users: 'running' } };
    const ready = await fetch(`${base}/readyz?verbose`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { notReady: unknown[] }).notReady).toEqual([]);

    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('serves the registry on /metrics', async () => {
    const metrics = new RuntimeMetrics(new Registry(), { processMetrics: false });
    metrics.commits.inc({ pipeline: 'bids', table: 'parsed_events' }, 3);
    server = await startMetricsServer(metrics.registry, 0, '127.0.0.1');
    const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(body).toContain('streamberg_commits_total{pipeline="bids",table="parsed_events"} 3');
  });
});
