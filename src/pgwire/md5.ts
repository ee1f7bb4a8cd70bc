import { createHash } from 'node:crypto';

/**
 * Computes the PasswordMessage content for AuthenticationMD5Password:
 * 'md5' + md5hex(md5hex(password + user) + salt), where salt is the 4 bytes
 * the server sent and md5hex is the lower-case hex digest.
 */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = md5Hex(Buffer.from(password + user, 'utf8'));
  return 'md5' + md5Hex(Buffer.concat([Buffer.from(inner, 'latin1'), salt]));
}

function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}
