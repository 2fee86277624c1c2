// The Kubernetes example (deploy/kubernetes/) checked without a cluster: kubernetes-validate holds
// the Kubernetes API's JSON schemas per release and validates each manifest against the releases
// named below, strictly (an unknown field is an error, as `kubectl apply` makes it). What schemas
// cannot see is checked here too: that the parts name each other (config map, service account,
// probe ports, the disruption budget's selector), that the probes and the scrape annotation point
// at the port the application's configuration serves, and that the application's configuration
// embedded in the config map passes the runtime's own `--check`.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseDuration } from '../../src/config/units.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';

/**
 * An older release, so that the example suits a cluster not upgraded for a while, and the newest
 * whose schemas the validator holds.
 */
const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];
const DIR = path.join(ROOT, 'deploy/kubernetes');
const VALIDATOR = path.join(ROOT, '.venv/bin/kubernetes-validate');
const MANIFESTS = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

interface Verdict {
  status: number | null;
  /** One per resource and release that passed; the validator prints nothing else for a good one. */
  passed: string[];
  /** ERROR lines, and WARN lines: a kind or apiVersion the release lacks is only a warning there. */
  problems: string[];
}

function validate(file: string): Verdict {
  const r = spawnSync(VALIDATOR, ['--strict', ...KUBERNETES_VERSIONS.flatMap((v) => ['--kubernetes-version', v]), file], { encoding: 'utf8' });
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return {
    status: r.status,
    passed: lines.filter((l) => l.startsWith('INFO ') && l.includes(' passed for resource ')),
    problems: lines.filter((l) => !l.startsWith('INFO ')),
  };
}

function documents(file: string): Array<Record<string, any>> {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((d): d is Record<string, any> => d !== null);
}

const resources = MANIFESTS.flatMap((f) => documents(path.join(DIR, f)));
function resource(kind: string): Record<string, any> {
  const found = resources.filter((r) => r.kind === kind);
  if (found.length !== 1) throw new Error(`deploy/kubernetes/ holds ${found.length} resources of kind ${kind}; expected 1`);
  return found[0]!;
}

beforeAll(() => {
  // A virtualenv made before the validator was added to it gets it now (idempotent, locked).
  if (!existsSync(VALIDATOR)) execFileSync('bash', [path.join(ROOT, 'scripts/setup-python.sh')], { stdio: 'inherit', timeout: 900_000 });
});

describe(`the Kubernetes example, against Kubernetes ${KUBERNETES_VERSIONS.join(' and ')}`, () => {
  it.each(MANIFESTS)('%s is valid', (file) => {
    const full = path.join(DIR, file);
    const v = validate(full);
    expect(v.problems, v.problems.join('\n')).toEqual([]);
    expect(v.status).toBe(0);
    expect(v.passed).toHaveLength(documents(full).length * KUBERNETES_VERSIONS.length);
  });

  it('refuses a manifest the schemas refuse, and one whose apiVersion the release lacks', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubernetes-'));
    const deployment = readFileSync(path.join(DIR, 'deployment.yaml'), 'utf8');
    const broken = deployment.replace('httpGet: { path: /readyz, port: metrics }', 'httpGet: { path: /readyz, port: true }');
    expect(broken).not.toBe(deployment);
    writeFileSync(path.join(dir, 'deployment.yaml'), broken);
    const v = validate(path.join(dir, 'deployment.yaml'));
    expect(v.status).toBe(1);
    expect(v.problems.join('\n')).toContain('spec.template.spec.containers.0.readinessProbe.httpGet.port');

    // policy/v1beta1 left Kubernetes in 1.25: the validator warns and exits 0, which validate()
    // counts as a problem.
    writeFileSync(path.join(dir, 'pdb.yaml'), readFileSync(path.join(DIR, 'pod-disruption-budget.yaml'), 'utf8').replace('policy/v1', 'policy/v1beta1'));
    const old = validate(path.join(dir, 'pdb.yaml'));
    expect(old.passed).toEqual([]);
    expect(old.problems.join('\n')).toMatch(/PodDisruptionBudget with api version policy\/v1beta1/);
  });

  it('its parts name each other', () => {
    const { deployment, pod, container, configMap } = parts();
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual(pod.metadata.labels);
    expect(pod.spec.serviceAccountName).toBe(resource('ServiceAccount').metadata.name);
    expect(resource('ServiceAccount').metadata.annotations).toHaveProperty(['eks.amazonaws.com/role-arn']);
    expect(resource('PodDisruptionBudget').spec.selector.matchLabels).toEqual(pod.metadata.labels);

    const volume = pod.spec.volumes.find((v: any) => v.configMap?.name === configMap.metadata.name);
    expect(volume, 'a volume of the config map').toBeDefined();
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    expect(container.command.slice(-2)).toEqual(['--config', mount.mountPath]);
    expect(Object.keys(configMap.data).sort()).toEqual(['topics.yaml', 'transformations.yaml']);
  });

  it("probes and scraping reach the port the application's configuration serves", () => {
    const { pod, container, app } = parts();
    const port = container.ports.find((p: any) => p.name === 'metrics');
    expect(port.containerPort).toBe(app.runtime.metrics_port);
    expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(app.runtime.metrics_port));
    expect(pod.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // The metrics server listens on 127.0.0.1 unless told otherwise: no probe would reach it.
    expect(container.env).toContainEqual({ name: 'METRICS_HOST', value: '0.0.0.0' });
  });

  it('gives the final checkpoint longer than it may take, and requests the cores the pool uses', () => {
    const { pod, container, app } = parts();
    // The final checkpoint waits for its files as long as any checkpoint may (max(60 s, 5
    // intervals)), then commits and waits at most 5 s for the group's offsets.
    const intervalS = parseDuration(app.runtime.checkpoint_interval)! / 1000;
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(Math.max(60, 5 * intervalS) + 5);
    expect(Number(container.resources.requests.cpu)).toBe(app.runtime.parallelism);
    expect(container.resources.limits).not.toHaveProperty('cpu');
  });
});

describe("the config map's application configuration", () => {
  beforeAll(() => ensureBuilt());

  it("passes the runtime's own --check, scale-out on", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubernetes-config-'));
    for (const [name, text] of Object.entries(resource('ConfigMap').data as Record<string, string>)) writeFileSync(path.join(dir, name), text);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), '--check', '--config', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/scale-out: member \S+, auto group protocol, session 45s, rebalance 1min/);
    expect(r.stdout).toContain('bid-events → bid_events_raw → analytics.parsed_events');
    expect(r.stdout).toContain('user-events → user_events_enriched → analytics.user_events_enriched');
  });
});

function parts() {
  const deployment = resource('Deployment');
  const pod = deployment.spec.template;
  const configMap = resource('ConfigMap');
  const app = parse(configMap.data['topics.yaml']) as { runtime: Record<string, any> };
  return { deployment, pod, container: pod.spec.containers[0], configMap, app };
}
