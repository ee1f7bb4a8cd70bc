// Parsers of option values, used by the command definitions. Commander
// reports an InvalidArgumentError as a usage error naming the option.

import { InvalidArgumentError } from 'commander';
import { MAX_PORT_OVERRIDE, MIN_PORT_OVERRIDE } from '../agent/port-override.js';

const MAX_PORT = 65_535;

/** Largest page of audit records the node returns (MAX_LOG_LIMIT of the admin API). */
export const MAX_LOG_LIMIT = 10_000;

/** Parses a TCP port number from 1 to 65535. */
export function parsePort(value: string): number {
  return parseWholeNumber(value, 1, MAX_PORT, 'a port number');
}

/** Parses a local port for --port-override, in the range the node accepts. */
export function parsePortOverride(value: string): number {
  return parseWholeNumber(value, MIN_PORT_OVERRIDE, MAX_PORT_OVERRIDE, 'a port number');
}

/** Parses --limit of the audit log commands. */
export function parseLimit(value: string): number {
  return parseWholeNumber(value, 1, MAX_LOG_LIMIT, 'a whole number');
}

/** Gathers a repeated option into an array. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseWholeNumber(value: string, min: number, max: number, kind: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new InvalidArgumentError(`expected ${kind} from ${min} to ${max}.`);
  }
  return number;
}
