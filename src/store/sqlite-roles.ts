// Roles of the embedded store: each grants resources by name or by tag,
// and has users as members.

import type { StatementSource } from './statement-cache.js';
import { ValidationError } from '../errors.js';
import { validateRoleName } from './account-validation.js';
import type { SqliteResources } from './sqlite-resources.js';
import type { SqliteUsers } from './sqlite-users.js';
import { StoreError } from './store-error.js';
import { parseTag } from './tags.js';
import { quoteValue } from './value-text.js';
import type { Role } from './types.js';

export interface GrantInput {
  resource?: string;
  tag?: string;
}

type GrantTarget = { kind: 'resource'; resourceId: number } | { kind: 'tag'; key: string; value: string };

/** Reads and changes roles, their grants and members. Callers wrap changes in a transaction. */
export class SqliteRoles {
  constructor(
    private readonly db: StatementSource,
    private readonly now: () => string,
    private readonly resources: SqliteResources,
    private readonly users: SqliteUsers,
  ) {}

  list(): Role[] {
    const rows = this.db.prepare('SELECT id, name FROM roles ORDER BY name').all() as Array<{ id: number; name: string }>;
    return rows.map((row) => this.toRole(row));
  }

  add(rawName: string): Role {
    const name = validateRoleName(rawName, 'name');
    if (this.db.prepare('SELECT 1 FROM roles WHERE name = ?').get(name)) {
      throw new StoreError('conflict', `role "${name}" already exists`, { field: 'name', hint: 'choose another role name' });
    }

    const { lastInsertRowid } = this.db.prepare('INSERT INTO roles (name, created_at) VALUES (?, ?)').run(name, this.now());
    return this.toRole({ id: Number(lastInsertRowid), name });
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM roles WHERE name = ?').run(name).changes > 0;
  }

  /** Adds a grant; granting what the role already grants changes nothing. */
  grant(role: string, grant: GrantInput): void {
    const roleId = this.idOf(role);
    const target = this.grantTarget(grant);

    if (target.kind === 'resource') {
      this.db.prepare('INSERT OR IGNORE INTO role_grants (role_id, resource_id) VALUES (?, ?)').run(roleId, target.resourceId);
    } else {
      this.db.prepare('INSERT OR IGNORE INTO role_grants (role_id, tag_key, tag_value) VALUES (?, ?, ?)').run(roleId, target.key, target.value);
    }
  }

  /** Removes a grant; returns false when the role did not have it. */
  revoke(role: string, grant: GrantInput): boolean {
    const roleId = this.idOf(role);
    const target = this.grantTarget(grant);

    const result =
      target.kind === 'resource'
        ? this.db.prepare('DELETE FROM role_grants WHERE role_id = ? AND resource_id = ?').run(roleId, target.resourceId)
        : this.db.prepare('DELETE FROM role_grants WHERE role_id = ? AND tag_key = ? AND tag_value = ?').run(roleId, target.key, target.value);
    return result.changes > 0;
  }

  /** Makes the user a member; assigning a current member changes nothing. */
  assign(role: string, email: string): void {
    const roleId = this.idOf(role);
    const userId = this.users.idOf(email);
    this.db.prepare('INSERT OR IGNORE INTO role_members (role_id, user_id) VALUES (?, ?)').run(roleId, userId);
  }

  /** Removes the user from the role; returns false when they were not a member. */
  unassign(role: string, email: string): boolean {
    const roleId = this.idOf(role);
    const userId = this.users.idOf(email);
    return this.db.prepare('DELETE FROM role_members WHERE role_id = ? AND user_id = ?').run(roleId, userId).changes > 0;
  }

  private idOf(name: string): number {
    const row = this.db.prepare('SELECT id FROM roles WHERE name = ?').get(name) as { id: number } | undefined;
    if (!row) {
      throw new StoreError('not_found', `role "${name}" not found`, { field: 'role', hint: 'run `sdm role list` to see the roles that exist' });
    }
    return row.id;
  }

  private grantTarget(grant: GrantInput): GrantTarget {
    const hasResource = grant.resource !== undefined;
    const hasTag = grant.tag !== undefined;
    if (hasResource === hasTag) {
      throw new ValidationError('grant', `invalid grant ${quoteValue(grant)}: expected exactly one of resource or tag`);
    }

    if (hasResource) {
      return { kind: 'resource', resourceId: this.resources.idOf(grant.resource!) };
    }
    return { kind: 'tag', ...parseTag(grant.tag) };
  }

  private toRole(row: { id: number; name: string }): Role {
    const resources = this.db
      .prepare('SELECT r.name FROM role_grants g JOIN resources r ON r.id = g.resource_id WHERE g.role_id = ? ORDER BY r.name')
      .pluck()
      .all(row.id) as string[];
    const tags = this.db
      .prepare(`SELECT tag_key || '=' || tag_value FROM role_grants WHERE role_id = ? AND tag_key IS NOT NULL ORDER BY tag_key, tag_value`)
      .pluck()
      .all(row.id) as string[];
    const members = this.db
      .prepare('SELECT u.email FROM role_members m JOIN users u ON u.id = m.user_id WHERE m.role_id = ? ORDER BY u.email')
      .pluck()
      .all(row.id) as string[];

    return { name: row.name, resources, tags, members };
  }
}
