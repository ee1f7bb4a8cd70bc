import { userMayReach } from '../store/access.js';
import type { Resource, Store, User } from '../store/types.js';
import { hashApiToken } from './api-tokens.js';

/** Looks up the user behind an API token, and what that user may reach. */
export class AccessControl {
  constructor(private readonly store: Store) {}

  async userForToken(token: string): Promise<User | undefined> {
    return this.store.findUserByTokenHash(hashApiToken(token));
  }

  async mayReach(user: User, resource: Resource): Promise<boolean> {
    if (user.admin) {
      return true;
    }
    return userMayReach(user, await this.store.listRoles(), resource);
  }

  /** Returns the resources the user may reach, in the store's order. */
  async reachable(user: User, resources: Resource[]): Promise<Resource[]> {
    if (user.admin) {
      return resources;
    }
    const roles = await this.store.listRoles();
    return resources.filter((resource) => userMayReach(user, roles, resource));
  }
}
