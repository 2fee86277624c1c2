// PNG charts of a results file: Vega-Lite specs compiled to Vega, rendered to SVG without a
// browser (vega's headless SVG renderer), rasterised with resvg. Text uses the system's fonts
// (DejaVu Sans on Debian); where none is found resvg draws no text, the bars are still there.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { Results, SummaryRow } from './summary.js';

const FONT = 'DejaVu Sans';

function label(s: SummaryRow): string {
  const name = s.system === 'streamberg' ? 'streamberg' : s.system === 'pyflink' ? 'PyFlink 1.19' : s.system === 'kafka-java' ? 'Kafka Java consumer' : s.system;
  return s.parallelism === null ? name : `${name} p=${s.parallelism}`;
}

async function render(spec: vegaLite.TopLevelSpec, file: string): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: FONT }, background: 'white' }).render().asPng();
  writeFileSync(file, png);
  return file;
}

const base = { config: { font: FONT, view: { stroke: null } }, background: 'white' } as const;

/** Bars of one measure per system, faceted by workload and codec, with min–max whiskers. */
function systemBars(rows: SummaryRow[], field: 'recordsPerSecond' | 'peakRssMb' | 'cpuSecondsPerMillion', title: string, scale: number): vegaLite.TopLevelSpec {
  const values = rows
    .filter((r) => r[field] !== null)
    .map((r) => ({ system: label(r), group: `${r.workload.toUpperCase()} ${r.codec}`, median: r[field]!.median / scale, min: r[field]!.min / scale, max: r[field]!.max / scale }));
  return {
    ...base,
    data: { values },
    facet: { column: { field: 'group', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 180,
      layer: [
        { mark: { type: 'bar', tooltip: false }, encoding: { y: { field: 'system', type: 'nominal', title: null, sort: null }, x: { field: 'median', type: 'quantitative', title }, color: { field: 'system', type: 'nominal', legend: null } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'system', type: 'nominal', sort: null }, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 }, encoding: { y: { field: 'system', type: 'nominal', sort: null }, x: { field: 'max', type: 'quantitative' }, text: { field: 'median', type: 'quantitative', format: '.3~s' } } },
      ],
    },
  } as vegaLite.TopLevelSpec;
}

/** Seconds of one thread per million records, per stage. */
function stageBars(rows: SummaryRow[]): vegaLite.TopLevelSpec | null {
  const values = rows
    .filter((r) => r.system.startsWith('stage:') && r.recordsPerSecondProcessing !== null)
    .map((r) => ({ stage: r.system.slice('stage:'.length), seconds: 1e6 / r.recordsPerSecondProcessing!.median, group: `${r.workload.toUpperCase()} ${r.codec}` }));
  if (values.length === 0) return null;
  return {
    ...base,
    data: { values },
    width: 360,
    height: 140,
    layer: [
      { mark: 'bar', encoding: { y: { field: 'stage', type: 'nominal', title: null, sort: ['source', 'transform', 'parquet', 'commit'] }, x: { field: 'seconds', type: 'quantitative', title: 'seconds of one thread per million records' }, color: { field: 'stage', type: 'nominal', legend: null } } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 }, encoding: { y: { field: 'stage', type: 'nominal', sort: ['source', 'transform', 'parquet', 'commit'] }, x: { field: 'seconds', type: 'quantitative' }, text: { field: 'seconds', type: 'quantitative', format: '.2f' } } },
    ],
  } as vegaLite.TopLevelSpec;
}

/** Writes the charts of `results` into `dir` as `<prefix><name>.png`; returns the files written. */
export async function writeCharts(results: Results, dir: string, prefix = ''): Promise<string[]> {
  const systems = results.summary.filter((s) => !s.system.startsWith('stage:') && s.runs > 0);
  const files: string[] = [];
  if (systems.length > 0) {
    files.push(await render(systemBars(systems, 'recordsPerSecond', 'k records/s (process start to exit)', 1000), path.join(dir, `${prefix}throughput.png`)));
    files.push(await render(systemBars(systems, 'peakRssMb', 'peak RSS, MB (whole process tree)', 1), path.join(dir, `${prefix}rss.png`)));
    files.push(await render(systemBars(systems, 'cpuSecondsPerMillion', 'CPU-seconds per million records', 1), path.join(dir, `${prefix}cpu.png`)));
  }
  const stages = stageBars(results.summary);
  if (stages) files.push(await render(stages, path.join(dir, `${prefix}stages.png`)));
  return files;
}
