// The pg_hba.conf of the embedded PostgreSQL. Like Azure Database for
// PostgreSQL, it accepts only TLS connections (hostssl) from the listen
// address and names each login role with its method.

import { LOGIN_AUTH_METHODS, LOGIN_GROUP_ROLES, type LoginAuth } from './login-roles.js';

/** The only address the server listens on and accepts clients from. */
export const SERVER_HOST = '127.0.0.1';

const CLIENT_NETWORK = `${SERVER_HOST}/32`;

export interface HbaRule {
  role: string;
  auth: LoginAuth;
  /** The only database the role may connect to, or all databases when absent. */
  database?: string;
}

/**
 * Renders the whole file. pg_hba.conf applies the first line that matches,
 * so the rejection of connections without TLS comes first and the group
 * lines come last. Names are quoted so that keywords such as `all` and a
 * leading `+` in them are taken literally; checkIdentifier has excluded
 * quotes.
 */
export function renderHbaFile(adminRole: string, rules: Iterable<HbaRule>): string {
  const lines = [
    '# Written by sdm for its embedded PostgreSQL and rewritten whenever a login role changes.',
    '# TYPE     DATABASE  USER  ADDRESS  METHOD',
    'hostnossl  all  all  all  reject',
    `hostssl  all  ${quote(adminRole)}  ${CLIENT_NETWORK}  scram-sha-256`,
  ];

  for (const rule of rules) {
    lines.push(`hostssl  ${rule.database === undefined ? 'all' : quote(rule.database)}  ${quote(rule.role)}  ${CLIENT_NETWORK}  ${rule.auth}`);
  }

  // A leading + makes the name a group whose members match. PostgreSQL takes
  // a quoted +name literally, so these plain lower-case names stay unquoted.
  for (const method of LOGIN_AUTH_METHODS) {
    lines.push(`hostssl  all  +${LOGIN_GROUP_ROLES[method]}  ${CLIENT_NETWORK}  ${method}`);
  }
  return lines.join('\n') + '\n';
}

function quote(name: string): string {
  return `"${name}"`;
}
