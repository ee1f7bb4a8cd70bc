// Choosing resources by name, by --all, or by --filter, from the list the
// node returns to this user (only the resources their roles grant).

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { matchesFilter, parseFilter } from '../store/filter.js';
import type { ResourceView } from '../tunnel/admin-api.js';
import type { NodeClient } from './node-client.js';

export interface Selection {
  names: string[];
  all?: boolean;
  filter?: string;
}

export function fetchResources(client: NodeClient): Promise<ResourceView[]> {
  return client.get<ResourceView[]>('/v1/resources');
}

/** Keeps the resources that match `expression`; returns all of them when it is undefined. */
export function filterResources(resources: ResourceView[], expression: string | undefined): ResourceView[] {
  if (expression === undefined) {
    return resources;
  }
  const filter = parseFilter(expression);
  return resources.filter((resource) => matchesFilter(resource, filter));
}

/** Throws a usage error unless the selection names resources or sets --all, but not both. */
export function checkSelection(selection: Selection): void {
  if (selection.all === true && selection.names.length > 0) {
    throw new SdmError('usage', `give resource names or --all, not both (got --all and ${selection.names.join(' ')})`, {
      exitCode: ExitCode.USAGE,
      hint: 'drop --all to act on the named resources, or drop the names to act on every one',
    });
  }
  if (selection.all !== true && selection.names.length === 0) {
    throw new SdmError('usage', 'a resource name or --all is required', {
      exitCode: ExitCode.USAGE,
      hint: 'name one or more resources, or pass --all; sdm status lists them',
    });
  }
}

/** Picks the named resources, or every one with --all, then applies --filter. */
export function selectResources(resources: ResourceView[], selection: Selection): ResourceView[] {
  checkSelection(selection);
  const picked = selection.all === true ? resources : selection.names.map((name) => findResource(resources, name));
  const selected = filterResources(picked, selection.filter);
  if (selected.length === 0) {
    const message = selection.filter === undefined ? 'no resource is granted to you' : `no resource matches the filter "${selection.filter}"`;
    throw new SdmError('not_found', message, { exitCode: ExitCode.NOT_FOUND, hint: 'run sdm status to list the resources you may reach' });
  }
  return selected;
}

function findResource(resources: ResourceView[], name: string): ResourceView {
  const resource = resources.find((candidate) => candidate.name === name);
  if (resource === undefined) {
    throw new SdmError('not_found', `resource ${name} not found, or not granted to you`, {
      exitCode: ExitCode.NOT_FOUND,
      hint: 'run sdm status to list the resources you may reach',
    });
  }
  return resource;
}

/** Formats tags as `k=v,k2=v2`, sorted by key. */
export function formatTags(tags: Record<string, string>): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`)
    .join(',');
}
