import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, type Harness } from './cli-harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

describe('usage errors', () => {
  it('unknown flag suggests the likely one', async () => {
    const result = await harness.run(['status', '--jsno']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: unknown option '--jsno'");
    expect(result.stderr).toContain('(Did you mean --json?)');
    expect(result.stderr).toContain('hint: run sdm status --help');
  });

  it('unknown command suggests the likely one', async () => {
    const result = await harness.run(['stauts']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: unknown command 'stauts'");
    expect(result.stderr).toContain('(Did you mean status?)');
  });

  it('missing argument', async () => {
    const result = await harness.run(['resource', 'show']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: missing required argument 'name'");
    expect(result.stderr).toContain('hint: run sdm resource show --help');
  });

  it('missing required option', async () => {
    const result = await harness.run(['login']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: required option '--gateway <host:port>' not specified");
  });

  it('invalid port value', async () => {
    const result = await harness.run(['resource', 'update', 'orders', '--port', 'abc']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('expected a port number from 1 to 65535');
  });

  it('invalid tls mode', async () => {
    const result = await harness.run(['resource', 'update', 'orders', '--tls-mode', 'strict']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('verify-full');
  });

  it('invalid gateway address', async () => {
    const result = await harness.run(['login', '--gateway', 'node-without-port', '--fingerprint', 'AA']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: invalid --gateway "node-without-port": expected HOST:PORT');
  });

  it('command after -- outside connect', async () => {
    const result = await harness.run(['status', '--', 'psql']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: sdm status does not take a command after --');
    expect(result.stderr).toContain('hint: only sdm connect');
  });

  it('group without subcommand shows help', async () => {
    const result = await harness.run(['resource']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('Usage: sdm resource');
  });

  it('help exits 0', async () => {
    const result = await harness.run(['--help']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Usage: sdm');
    expect(result.stdout).toContain('connect');
    expect(result.stdout).not.toContain('__complete');
  });

  it('connect needs a name or --all', async () => {
    const result = await harness.run(['connect']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: a resource name or --all is required');
    expect(result.stderr).toContain('hint: name one or more resources, or pass --all');
  });

  it('disconnect needs a name or --all', async () => {
    const result = await harness.run(['disconnect']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: a resource name or --all is required');
  });

  it('disconnect rejects names with --all', async () => {
    const result = await harness.run(['disconnect', '--all', 'db1']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: give resource names or --all, not both');
  });

  it('connect rejects names with --all', async () => {
    const result = await harness.run(['connect', 'db1', '--all']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: give resource names or --all, not both');
  });

  it('help for an unknown command', async () => {
    const result = await harness.run(['help', 'stauts']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: unknown command 'stauts'");
    expect(result.stderr).toContain('(Did you mean status?)');
    expect(result.stderr).not.toContain('Usage: sdm');
  });

  it('help for a known command', async () => {
    const result = await harness.run(['help', 'status']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Usage: sdm status');
  });

  it('shows help for a subcommand', async () => {
    const result = await harness.run(['help', 'resource', 'add']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Usage: sdm resource add');
  });

  it('rejects help for an unknown subcommand', async () => {
    const result = await harness.run(['help', 'resource', 'nosuch']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("unknown command 'nosuch'");
  });

  it('port override above the node range', async () => {
    const result = await harness.run(['resource', 'update', 'orders', '--port-override', '70000']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('expected a port number from 1024 to 64999');
  });

  it('port override below 1024', async () => {
    const result = await harness.run(['resource', 'update', 'orders', '--port-override', '80']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('expected a port number from 1024 to 64999');
  });
});
