import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = ['token', 'apiToken', 'password', 'accessToken', 'authorization', 'adminToken'];

/**
 * Creates the structured logger of a long-running process (node or agent).
 * It writes one JSON object per line, unless `destination` is a terminal,
 * where it writes `time level message key=value…` lines for people. Keys
 * that name a secret are censored at any depth pino can reach.
 */
export function createLogger(options: { name: string; destination?: NodeJS.WritableStream & { isTTY?: boolean }; level?: string }): Logger {
  const destination = options.destination ?? process.stderr;
  const stream = destination.isTTY ? humanStream(destination) : destination;

  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.SDM_LOG_LEVEL ?? 'info',
      base: { name: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: SECRET_KEYS.flatMap((key) => [key, `*.${key}`]), censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream as NodeJS.WritableStream as pino.DestinationStream,
  );
}

/** Creates a logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function humanStream(destination: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length > 0) {
          destination.write(formatLine(line) + '\n');
        }
      }
      callback();
    },
  });
}

function formatLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }

  const { time, level, msg, name: _name, pid: _pid, ...fields } = record;
  const extras = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${extras ? ' ' + extras : ''}`;
}
