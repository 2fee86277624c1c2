// The metrics port: GET /metrics in the Prometheus text format, and the probes an orchestrator
// asks — /healthz (live: the event loop answers) and /readyz (ready: every enabled pipeline is
// running) — on 127.0.0.1 unless told otherwise.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** What /readyz answers: ready, and each enabled pipeline's state. */
export interface Readiness {
  ready: boolean;
  pipelines: Record<string, string>;
}

export interface ProbeOptions {
  /** Asked on every /readyz; without it the process is ready once it serves. */
  readiness?: () => Readiness;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

export async function startMetricsServer(registry: Registry, port: number, host = process.env.METRICS_HOST ?? '127.0.0.1', probes: ProbeOptions = {}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
      res.end('only GET\n');
      return;
    }
    if (route === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    if (route === '/healthz') {
      // Answering at all is the proof: a blocked event loop answers nothing, and the probe times out.
      json(res, 200, { status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
      return;
    }
    if (route === '/readyz') {
      const r = probes.readiness?.() ?? { ready: true, pipelines: {} };
      const notReady = Object.entries(r.pipelines)
        .filter(([, state]) => state !== 'running')
        .map(([pipeline, state]) => ({ pipeline, state }));
      json(res, r.ready ? 200 : 503, { ready: r.ready, pipelines: r.pipelines, notReady });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try GET /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
