// Kafka's own Java consumer, through the ConsumerPerformance tool of the kafka-tools jar at the
// broker's version: what Flink's Kafka source is built on, and the reference the targets
// are set against. JVM options as Kafka's kafka-consumer-perf-test.sh and kafka-run-class.sh set
// them (512 MB heap, G1 with 20 ms pauses); fetch sizes left at the tool's defaults (1 MB per
// partition), the same as the kafkajs baseline.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/project-root.js';
import type { Candidate, CandidateReport } from '../candidate.js';

const TOOLS_POM = path.join(PROJECT_ROOT, 'scripts/kafka/tools-pom.xml');
const TOOLS_LIBS = path.join(PROJECT_ROOT, '.cache/kafka/tools-libs');

/** The Kafka version both poms pin; the tools' version must match the broker's. */
export function kafkaVersion(): string {
  const pom = readFileSync(path.join(PROJECT_ROOT, 'scripts/kafka/pom.xml'), 'utf8');
  return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown';
}

/**
 * Resolves kafka-tools and its dependencies with Maven into .cache/kafka/tools-libs, once, as
 * scripts/kafka.sh resolves the broker's jars; returns why it could not, or null.
 */
export function resolveToolsJars(): string | null {
  const complete = path.join(TOOLS_LIBS, '.complete');
  if (existsSync(complete)) return null;
  const toolsVersion = /<kafka\.version>([^<]+)</.exec(readFileSync(TOOLS_POM, 'utf8'))?.[1];
  if (toolsVersion !== kafkaVersion()) return `scripts/kafka/tools-pom.xml pins kafka ${toolsVersion}, the broker is ${kafkaVersion()}`;
  process.stderr.write(`kafka-java: fetching kafka-tools ${toolsVersion} with Maven into ${TOOLS_LIBS}\n`);
  rmSync(TOOLS_LIBS, { recursive: true, force: true });
  try {
    execFileSync('mvn', ['-q', '-B', '-f', TOOLS_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${TOOLS_LIBS}`, '-DincludeScope=runtime'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 600_000,
    });
  } catch (err) {
    return `Maven could not resolve kafka-tools: ${(err as Error).message}`;
  }
  writeFileSync(complete, '');
  return null;
}

/** ConsumerPerformance's figures: a header line of names and a line of values, comma-separated. */
function parseFigures(stdout: string): Record<string, string> {
  const lines = stdout.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith('start.time'));
  const names = lines[at]?.split(',').map((s) => s.trim()) ?? [];
  const values = lines[at + 1]?.split(',').map((s) => s.trim()) ?? [];
  if (at < 0 || names.length !== values.length) throw new Error(`ConsumerPerformance printed no figures:\n${stdout.slice(-2000)}`);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

export const candidate: Candidate = {
  name: 'kafka-java',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable: resolveToolsJars,
  version: kafkaVersion,
  launch(input) {
    const timeoutMs = Math.min(input.deadlineMs, 60_000);
    return {
      command: 'java',
      args: [
        '-Xmx512M',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${path.join(PROJECT_ROOT, 'scripts/kafka/tools-log4j2.properties')}`,
        '-cp',
        `${TOOLS_LIBS}/*`,
        'org.apache.kafka.tools.ConsumerPerformance',
        '--bootstrap-server',
        input.bootstrap,
        '--topic',
        input.topic,
        '--messages',
        String(input.records),
        '--timeout',
        String(timeoutMs),
        '--group',
        `bench-kafka-java-${Date.now()}`,
      ],
      report(stdout): CandidateReport {
        const f = parseFigures(stdout);
        // The tool counts key and value bytes together, so no value-byte figure of its own. Its
        // fetch time excludes the group join: the time from the first poll to the last record.
        const fetchMs = Number(f['fetch.time.ms']);
        return {
          records: Number(f['data.consumed.in.nMsg']),
          valueBytes: null,
          readSeconds: Number.isFinite(fetchMs) ? fetchMs / 1000 : null,
          details: f,
        };
      },
    };
  },
};
