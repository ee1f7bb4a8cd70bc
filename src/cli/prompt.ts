// Prompts the CLI shows on a terminal: the API token, typed without echo,
// and the yes/no question before trusting a node's fingerprint.

import { createInterface } from 'node:readline';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { InputStream, OutputStream } from './io.js';

export interface Prompter {
  /** Reads one line without echoing it. */
  secret(question: string): Promise<string>;
  /** Prompts until the reply is yes or no; returns true for yes. */
  confirm(question: string): Promise<boolean>;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = '\u007f';
const CTRL_H = '\b';

/** Maximum length of a token typed at the terminal, so a stuck paste cannot grow without limit. */
const MAX_SECRET_CHARACTERS = 4096;

/** Creates a prompter that reads `input` and writes its prompts to `output` (stderr, so stdout stays data). */
export function terminalPrompter(input: InputStream, output: OutputStream): Prompter {
  return {
    secret: (question) => readHidden(input, output, question),
    confirm: (question) => askYesNo(input, output, question),
  };
}

function readHidden(input: InputStream, output: OutputStream, question: string): Promise<string> {
  output.write(question);
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  input.resume();

  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: Error): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (error) {
        reject(error);
      } else {
        resolve(typed);
      }
    };

    const onData = (chunk: string): void => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === CTRL_D) {
          finish();
          return;
        }
        if (character === CTRL_C) {
          finish(cancelled());
          return;
        }
        typed = character === BACKSPACE || character === CTRL_H ? typed.slice(0, -1) : typed + character;
        if (typed.length > MAX_SECRET_CHARACTERS) {
          finish(new SdmError('invalid_value', `the typed token exceeds ${MAX_SECRET_CHARACTERS} characters`, { exitCode: ExitCode.USAGE }));
          return;
        }
      }
    };
    input.on('data', onData);
  });
}

async function askYesNo(input: InputStream, output: OutputStream, question: string): Promise<boolean> {
  const lines = createInterface({ input, output: output as NodeJS.WritableStream, terminal: false });
  try {
    output.write(question);
    for await (const line of lines) {
      const reply = line.trim().toLowerCase();
      if (reply === 'yes' || reply === 'y') {
        return true;
      }
      if (reply === 'no' || reply === 'n' || reply === '') {
        return false;
      }
      output.write('Please type yes or no: ');
    }
    return false;
  } finally {
    lines.close();
  }
}

function cancelled(): SdmError {
  return new SdmError('cancelled', 'cancelled at the prompt', { hint: 'run the command again when ready' });
}
