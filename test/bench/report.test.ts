import { describe, expect, it } from 'vitest';

import { checkTargets, renderTable, type BenchResults } from '../../bench/report.js';

const MIB = 1024 * 1024;

function results(auditOnTps: number): BenchResults {
  const medians = { selectTps: 1000, connectTps: 100, copyInMs: 2000, copyOutMs: 1500, valueInMs: 1000, valueOutMs: 700 };
  const withoutTargets: Omit<BenchResults, 'targets'> = {
    startedAt: '2026-12-05T00:00:00.000Z',
    durationSeconds: 1,
    machine: { nproc: 2, cpuModel: 'test CPU', memoryBytes: 2 * 1024 ** 3, node: 'v20.20.2', platform: 'linux test' },
    options: {} as BenchResults['options'],
    paths: {
      direct: medians,
      'bare relay': medians,
      sdm: { ...medians, selectTps: auditOnTps },
      'sdm (audit off)': medians,
    },
    skippedPaths: { pgbouncer: 'pgbouncer is not installed' },
    commands: [{ command: 'sdm status', medianMs: 90, runs: 10 }],
    memory: {
      fresh: { agentBytes: 50 * MIB, nodeBytes: 70 * MIB },
      idle: [
        { connections: 200, rss: { agentBytes: 70 * MIB, nodeBytes: 90 * MIB } },
        { connections: 500, rss: { agentBytes: 85 * MIB, nodeBytes: 110 * MIB } },
      ],
      churn: { connections: 1000, before: { agentBytes: 100 * MIB, nodeBytes: 120 * MIB }, after: { agentBytes: 101 * MIB, nodeBytes: 121 * MIB } },
    },
  };
  return { ...withoutTargets, targets: checkTargets(withoutTargets) };
}

function targetRow(table: string, name: string): string | undefined {
  return table.split('\n').find((line) => line.startsWith(`| ${name} |`));
}

describe('benchmark report', () => {
  it('shows a ratio just under its bound as missed', () => {
    const table = renderTable(results(948.3));

    expect(targetRow(table, 'select-only TPS, audit on / audit off')).toBe('| select-only TPS, audit on / audit off | 0.948 | ≥ 0.95 | NO |');
  });

  it('shows a ratio at its bound as met', () => {
    const table = renderTable(results(950));

    expect(targetRow(table, 'select-only TPS, audit on / audit off')).toBe('| select-only TPS, audit on / audit off | 0.950 | ≥ 0.95 | yes |');
  });

  it('marks targets of paths not run as not measured', () => {
    const table = renderTable(results(1000));

    expect(targetRow(table, 'sdm --version (ms)')).toBe('| sdm --version (ms) | – | ≤ 80 | not measured |');
    expect(table).toContain('| (all) | pgbouncer | not run: pgbouncer is not installed | | |');
  });
});
