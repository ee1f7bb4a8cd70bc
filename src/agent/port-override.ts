// The range of fixed local ports an admin may set for a resource. The node
// checks the same range when it stores a resource (MIN_PORT_OVERRIDE and
// MAX_PORT_OVERRIDE of src/store/resource-validation.ts, which a test keeps
// equal to these). They are repeated here because the CLI reads them at
// start-up and the store's module is slow to load. Ports below 1024 need
// privileges, and ports from 65000 up are left to the system's ephemeral range.

export const MIN_PORT_OVERRIDE = 1024;
export const MAX_PORT_OVERRIDE = 64_999;

/** True for an integer in MIN_PORT_OVERRIDE to MAX_PORT_OVERRIDE. */
export function isPortOverride(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_PORT_OVERRIDE && (value as number) <= MAX_PORT_OVERRIDE;
}
