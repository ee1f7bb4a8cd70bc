// The benchmark's results as one JSON document and one printed table:
// medians per path, each path's ratio to the bare relay and to direct, and
// the targets with whether each was met.

import os from 'node:os';

import type { CommandTiming } from './commands.js';
import type { ChurnResult, RssSample } from './memory.js';
import type { BenchOptions } from './options.js';
import type { PathName } from './paths.js';
import { METRICS, type PathMedians } from './rounds.js';
import { ratio } from './statistics.js';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  options: BenchOptions;
  paths: Partial<Record<PathName, PathMedians>>;
  /** Paths that were not run, with the reason. */
  skippedPaths: Partial<Record<PathName, string>>;
  commands: CommandTiming[];
  /** RSS of the freshly started agent and node, then with idle connections held, then before and after churn. */
  memory: { fresh: RssSample; idle: { connections: number; rss: RssSample }[]; churn: ChurnResult | null };
  targets: TargetCheck[];
}

export interface TargetCheck {
  name: string;
  value: number | null;
  target: string;
  met: boolean | null;
}

export function machineInfo(): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

const MIB = 1024 * 1024;

/** Checks the results against the project's performance targets. */
export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const paths = results.paths;
  const command = (prefix: string) => results.commands.find((timing) => timing.command.startsWith(prefix))?.medianMs ?? null;
  const idle = (count: number) => results.memory.idle.find((sample) => sample.connections === count)?.rss;
  const churn = results.memory.churn;

  return [
    atLeast('select-only TPS, sdm / bare relay', ratio(paths.sdm?.selectTps, paths['bare relay']?.selectTps), 0.9),
    atLeast('new connections/s, sdm / bare relay', ratio(paths.sdm?.connectTps, paths['bare relay']?.connectTps), 0.9),
    atLeast('select-only TPS, audit on / audit off', ratio(paths.sdm?.selectTps, paths['sdm (audit off)']?.selectTps), 0.95),
    atLeast('COPY in throughput, sdm / direct', ratio(paths.direct?.copyInMs, paths.sdm?.copyInMs), 0.8),
    atLeast('COPY out throughput, sdm / direct', ratio(paths.direct?.copyOutMs, paths.sdm?.copyOutMs), 0.8),
    atMost('large value in, sdm time / direct time', ratio(paths.sdm?.valueInMs, paths.direct?.valueInMs), 2.0),
    atMost('large value out, sdm time / direct time', ratio(paths.sdm?.valueOutMs, paths.direct?.valueOutMs), 2.0),
    atMost('sdm status (ms)', command('sdm status'), 150),
    atMost('sdm --version (ms)', command('sdm --version'), 80),
    atMost('agent RSS at 200 idle (MiB)', mib(idle(200)?.agentBytes), 80),
    atMost('node RSS at 500 idle (MiB)', mib(idle(500)?.nodeBytes), 150),
    atMost('agent RSS after churn / before', ratio(churn?.after.agentBytes, churn?.before.agentBytes), 1.1),
    atMost('node RSS after churn / before', ratio(churn?.after.nodeBytes, churn?.before.nodeBytes), 1.1),
  ];
}

function atLeast(name: string, value: number | null, target: number): TargetCheck {
  return { name, value, target: `≥ ${target}`, met: value === null ? null : value >= target };
}

function atMost(name: string, value: number | null, target: number): TargetCheck {
  return { name, value, target: `≤ ${target}`, met: value === null ? null : value <= target };
}

function mib(bytes: number | undefined): number | null {
  return bytes === undefined ? null : bytes / MIB;
}

/** Renders the results as Markdown tables, which read as plain text too. */
export function renderTable(results: BenchResults): string {
  const lines = [`Machine: ${results.machine.nproc} CPUs (${results.machine.cpuModel}), ${(results.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Node ${results.machine.node}, ${results.machine.platform}`, ''];
  lines.push(...renderThroughput(results), '');
  lines.push('| command | median (ms) | runs |', '| --- | ---: | ---: |');
  for (const timing of results.commands) {
    lines.push(`| \`${timing.command}\` | ${timing.medianMs === null ? `not measured: ${timing.skipped}` : timing.medianMs.toFixed(0)} | ${timing.runs} |`);
  }
  lines.push('', ...renderMemory(results), '', '| target | value | wanted | met |', '| --- | ---: | ---: | --- |');
  for (const check of results.targets) {
    lines.push(`| ${check.name} | ${formatTargetValue(check.value)} | ${check.target} | ${check.met === null ? 'not measured' : check.met ? 'yes' : 'NO'} |`);
  }
  return lines.join('\n') + '\n';
}

function renderThroughput(results: BenchResults): string[] {
  const lines = ['| workload | path | median | ÷ bare relay | ÷ direct |', '| --- | --- | ---: | ---: | ---: |'];
  for (const { metric, label } of METRICS) {
    for (const [name, medians] of Object.entries(results.paths) as [PathName, PathMedians][]) {
      const relay = ratio(medians[metric], results.paths['bare relay']?.[metric]);
      const direct = ratio(medians[metric], results.paths.direct?.[metric]);
      lines.push(`| ${label} | ${name} | ${formatNumber(medians[metric])} | ${formatNumber(relay)} | ${formatNumber(direct)} |`);
    }
  }
  for (const [name, reason] of Object.entries(results.skippedPaths)) {
    lines.push(`| (all) | ${name} | not run: ${reason} | | |`);
  }
  return lines;
}

function renderMemory(results: BenchResults): string[] {
  const lines = ['| memory | agent RSS (MiB) | node RSS (MiB) |', '| --- | ---: | ---: |'];
  const { fresh, churn } = results.memory;
  lines.push(`| freshly started | ${formatNumber(mib(fresh.agentBytes))} | ${formatNumber(mib(fresh.nodeBytes))} |`);
  for (const sample of results.memory.idle) {
    lines.push(`| ${sample.connections} idle connections | ${formatNumber(mib(sample.rss.agentBytes))} | ${formatNumber(mib(sample.rss.nodeBytes))} |`);
  }
  if (churn !== null) {
    lines.push(`| before churn, after the workloads | ${formatNumber(mib(churn.before.agentBytes))} | ${formatNumber(mib(churn.before.nodeBytes))} |`);
    lines.push(`| after ${churn.connections} connections of churn | ${formatNumber(mib(churn.after.agentBytes))} | ${formatNumber(mib(churn.after.nodeBytes))} |`);
  }
  return lines;
}

/**
 * Formats a checked value with three decimals below 10, so a ratio that
 * misses its bound never rounds to the bound itself (0.948 against ≥ 0.95).
 */
function formatTargetValue(value: number | null): string {
  if (value === null || Number.isNaN(value)) {
    return '–';
  }
  return Math.abs(value) >= 10 ? formatNumber(value) : value.toFixed(3);
}

function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '–';
  }
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
