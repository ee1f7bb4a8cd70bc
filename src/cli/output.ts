// Command output. Data goes to stdout: JSON with --json, a cli-table3
// table on a terminal, and plain aligned columns otherwise, so pipes get
// text that `cut` and `awk` can read. Notes and errors go to stderr. Colour
// is used only on a terminal and never when NO_COLOR is set.

import type { CliIo, OutputStream } from './io.js';

/** Spaces between columns of plain output. */
const COLUMN_GAP = '  ';

export class Output {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Colours for stdout. */
  readonly colour: Colours;
  /** Colours for stderr. */
  readonly errorColour: Colours;

  constructor(io: Pick<CliIo, 'stdout' | 'stderr' | 'env'>) {
    this.stdout = io.stdout;
    this.stderr = io.stderr;
    this.colour = new Colours(colourLevel(io.stdout, io.env));
    this.errorColour = new Colours(colourLevel(io.stderr, io.env));
  }

  /** Prints `value` as indented JSON followed by a newline. */
  json(value: unknown): void {
    this.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  line(text = ''): void {
    this.stdout.write(text + '\n');
  }

  /** Prints a line on stderr, for progress and notes that are not data. */
  note(text: string): void {
    this.stderr.write(text + '\n');
  }

  warn(text: string): void {
    this.stderr.write(`${this.errorColour.yellow('warning:')} ${text}\n`);
  }

  /** Prints rows under headers, as a table on a terminal or as aligned plain text. */
  async table(headers: string[], rows: string[][]): Promise<void> {
    if (this.stdout.isTTY === true) {
      const { default: Table } = await import('cli-table3');
      const table = new Table({ head: headers, style: { head: this.colour.level > 0 ? ['cyan'] : [], border: [] } });
      table.push(...rows);
      this.line(table.toString());
      return;
    }
    this.stdout.write(alignColumns([headers, ...rows]));
  }

  /** Prints `key: value` lines with the values aligned. */
  fields(entries: Array<[string, string]>): void {
    const width = Math.max(...entries.map(([key]) => key.length)) + 1;
    for (const [key, value] of entries) {
      this.line(`${(key + ':').padEnd(width)} ${value}`);
    }
  }
}

/** Formats rows as columns separated by two spaces, each padded to its widest cell; no trailing spaces. */
export function alignColumns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  }

  return rows
    .map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]))).join(COLUMN_GAP).trimEnd())
    .join('\n')
    .concat(rows.length > 0 ? '\n' : '');
}

/**
 * The few ANSI styles the CLI uses. At level 0 every method returns the text
 * as it is. chalk did this before, and loading it took about 15 ms of every
 * command's start.
 */
export class Colours {
  constructor(readonly level: 0 | 1) {}

  green(text: string): string {
    return this.paint(text, 32, 39);
  }

  red(text: string): string {
    return this.paint(text, 31, 39);
  }

  yellow(text: string): string {
    return this.paint(text, 33, 39);
  }

  dim(text: string): string {
    return this.paint(text, 2, 22);
  }

  private paint(text: string, open: number, close: number): string {
    return this.level === 0 ? text : `\u001b[${open}m${text}\u001b[${close}m`;
  }
}

/** Colour level 1 (16 colours) on a terminal without NO_COLOR, else 0. */
function colourLevel(stream: OutputStream, env: Record<string, string | undefined>): 0 | 1 {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return stream.isTTY === true && !noColour ? 1 : 0;
}
