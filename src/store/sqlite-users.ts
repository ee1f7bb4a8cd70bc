// User records of the embedded store. Emails compare case-insensitively.
// A user's API token is kept only as its SHA-256 hash.

import type { StatementSource } from './statement-cache.js';
import { validateEmail } from './account-validation.js';
import { StoreError } from './store-error.js';
import { checkTokenHash, TOKEN_HASH_PATTERN } from './token-hash.js';
import type { User } from './types.js';

interface UserRow {
  id: number;
  email: string;
  admin: number;
  created_at: string;
}

/** Reads and changes users. Callers wrap changes in a transaction. */
export class SqliteUsers {
  constructor(
    private readonly db: StatementSource,
    private readonly now: () => string,
  ) {}

  findByTokenHash(tokenHash: string): User | undefined {
    const hash = tokenHash.toLowerCase();
    if (!TOKEN_HASH_PATTERN.test(hash)) {
      return undefined;
    }

    const row = this.db.prepare('SELECT id, email, admin, created_at FROM users WHERE token_hash = ?').get(hash) as UserRow | undefined;
    return row && this.toUser(row);
  }

  get(email: string): User | undefined {
    const row = this.db.prepare('SELECT id, email, admin, created_at FROM users WHERE email = ?').get(email.trim()) as UserRow | undefined;
    return row && this.toUser(row);
  }

  list(): User[] {
    const rows = this.db.prepare('SELECT id, email, admin, created_at FROM users ORDER BY email').all() as UserRow[];
    return rows.map((row) => this.toUser(row));
  }

  /** Returns the row id of a user, or throws StoreError `not_found`. */
  idOf(email: string): number {
    const row = this.db.prepare('SELECT id FROM users WHERE email = ?').get(email.trim()) as { id: number } | undefined;
    if (!row) {
      throw new StoreError('not_found', `user "${email}" not found`, { field: 'email', hint: 'run `sdm user list` to see the users that exist' });
    }
    return row.id;
  }

  add(rawEmail: string, admin: boolean, tokenHash: string): User {
    const email = validateEmail(rawEmail);
    const hash = checkTokenHash(tokenHash);

    if (this.db.prepare('SELECT 1 FROM users WHERE email = ?').get(email)) {
      throw new StoreError('conflict', `user "${email}" already exists`, {
        field: 'email',
        hint: 'use another email, or rotate the existing user\'s token',
      });
    }
    this.checkHashUnused(hash);

    this.db.prepare('INSERT INTO users (email, admin, token_hash, created_at) VALUES (?, ?, ?, ?)').run(email, admin ? 1 : 0, hash, this.now());
    return this.get(email)!;
  }

  setTokenHash(email: string, tokenHash: string): boolean {
    const hash = checkTokenHash(tokenHash);
    const row = this.db.prepare('SELECT id FROM users WHERE email = ?').get(email.trim()) as { id: number } | undefined;
    if (!row) {
      return false;
    }

    this.checkHashUnused(hash, row.id);
    this.db.prepare('UPDATE users SET token_hash = ? WHERE id = ?').run(hash, row.id);
    return true;
  }

  delete(email: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE email = ?').run(email.trim()).changes > 0;
  }

  // Two users with one token hash would make token lookup ambiguous. The
  // message leaves the hash out, as it identifies a live token.
  private checkHashUnused(hash: string, selfId?: number): void {
    const owner = this.db.prepare('SELECT id FROM users WHERE token_hash = ?').get(hash) as { id: number } | undefined;
    if (owner && owner.id !== selfId) {
      throw new StoreError('conflict', 'tokenHash is already assigned to another user', {
        field: 'tokenHash',
        hint: 'generate a new random token and store its hash',
      });
    }
  }

  private toUser(row: UserRow): User {
    const roles = this.db
      .prepare('SELECT r.name FROM role_members m JOIN roles r ON r.id = m.role_id WHERE m.user_id = ? ORDER BY r.name')
      .pluck()
      .all(row.id) as string[];

    return { email: row.email, admin: row.admin === 1, roles, createdAt: row.created_at };
  }
}
