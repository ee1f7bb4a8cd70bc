import type { Resource, Role, User } from './types.js';

/**
 * Decides whether a user may connect to a resource. Admins reach every
 * resource. Anyone else needs a role they belong to (by the user's `roles`
 * or the role's `members`) that grants the resource by name, or grants a
 * `key=value` tag the resource carries now. Tag grants are evaluated at call
 * time, so they cover resources tagged after the grant was made.
 */
export function userMayReach(user: User, roles: Role[], resource: Resource): boolean {
  if (user.admin) {
    return true;
  }

  return roles.some((role) => isMember(user, role) && grantsResource(role, resource));
}

function isMember(user: User, role: Role): boolean {
  const email = user.email.toLowerCase();
  return user.roles.includes(role.name) || role.members.some((member) => member.toLowerCase() === email);
}

function grantsResource(role: Role, resource: Resource): boolean {
  if (role.resources.includes(resource.name)) {
    return true;
  }

  return role.tags.some((grant) => {
    const equals = grant.indexOf('=');
    const key = grant.slice(0, equals);
    return equals > 0 && Object.hasOwn(resource.tags, key) && resource.tags[key] === grant.slice(equals + 1);
  });
}
