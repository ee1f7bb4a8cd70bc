import { describe, expect, it } from 'vitest';
import { parseHostPort, formatHostPort, isLoopbackAddress } from '../../src/agent/address.js';
import { alignColumns } from '../../src/cli/output.js';
import { callerEnvironment, runCommand } from '../../src/cli/run-command.js';
import { exportLine, shellQuote } from '../../src/cli/shell-quote.js';
import { parseTimeBound } from '../../src/cli/time-range.js';
import { SdmError } from '../../src/errors.js';

describe('shell quoting', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['orders', 'orders'],
    ['my db', `'my db'`],
    ["it's", `'it'\\''s'`],
    ['$(rm -rf /)', `'$(rm -rf /)'`],
    ['', `''`],
  ])('quotes %j', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it('builds one export line', () => {
    expect(exportLine({ PGHOST: '::1', PGDATABASE: 'a b' })).toBe(`export PGHOST=::1 PGDATABASE='a b'`);
  });
});

describe('time bounds', () => {
  const now = new Date('2025-06-01T12:00:00.000Z');

  it.each([
    ['30s', '2025-06-01T11:59:30.000Z'],
    ['15m', '2025-06-01T11:45:00.000Z'],
    ['1h', '2025-06-01T11:00:00.000Z'],
    ['2d', '2025-05-30T12:00:00.000Z'],
    ['1w', '2025-05-25T12:00:00.000Z'],
    ['2025-05-01T08:00:00+02:00', '2025-05-01T06:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseTimeBound(text, now, '--since')).toBe(iso);
  });

  it('rejects other text', () => {
    expect(() => parseTimeBound('1 hour', now, '--since')).toThrow('invalid --since "1 hour"');
  });
});

describe('host and port', () => {
  it.each([
    ['10.0.0.4:8443', { host: '10.0.0.4', port: 8443 }],
    ['node.example.com:443', { host: 'node.example.com', port: 443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
  ])('parses %s', (text, expected) => {
    expect(parseHostPort(text, '--gateway')).toEqual(expected);
  });

  it.each(['node', 'node:', ':8443', 'node:0', 'node:70000', '::1:8443'])('rejects %s', (text) => {
    expect(() => parseHostPort(text, '--gateway')).toThrow(`invalid --gateway "${text}"`);
  });

  it('brackets IPv6', () => {
    expect(formatHostPort({ host: '::1', port: 5432 })).toBe('[::1]:5432');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['localhost', false],
  ])('loopback %s is %s', (host, loopback) => {
    expect(isLoopbackAddress(host)).toBe(loopback);
  });
});

describe('plain columns', () => {
  it('pads all but the last column', () => {
    expect(alignColumns([['NAME', 'TAGS'], ['a-long-name', '']])).toBe('NAME         TAGS\na-long-name\n');
  });
});

describe('caller environment', () => {
  it('restores the moved CA variable', () => {
    expect(callerEnvironment({ PATH: '/bin', SDM_CALLER_NODE_EXTRA_CA_CERTS: '/ca.pem' })).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/ca.pem' });
  });

  it('keeps an empty value', () => {
    expect(callerEnvironment({ SDM_CALLER_NODE_EXTRA_CA_CERTS: '' })).toEqual({ NODE_EXTRA_CA_CERTS: '' });
  });

  it('leaves other environments unchanged', () => {
    expect(callerEnvironment({ PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });
});

describe('run command', () => {
  it('returns the exit code', async () => {
    expect(await runCommand([process.execPath, '-e', 'process.exit(7)'], process.env, 'ignore')).toBe(7);
  });

  it('passes the environment', async () => {
    const code = await runCommand([process.execPath, '-e', 'process.exit(process.env.PGPORT === "6543" ? 0 : 1)'], { ...process.env, PGPORT: '6543' }, 'ignore');
    expect(code).toBe(0);
  });

  it('returns 128 plus the signal', async () => {
    const code = await runCommand([process.execPath, '-e', 'process.kill(process.pid, "SIGTERM")'], process.env, 'ignore');
    expect(code).toBe(143);
  });

  it('reports a missing command', async () => {
    const error = await runCommand(['sdm-no-such-command'], process.env, 'ignore').catch((caught: SdmError) => caught);
    expect((error as SdmError).code).toBe('command_failed');
    expect((error as SdmError).message).toContain('command not found');
  });
});
