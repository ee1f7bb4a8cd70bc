import type { Resource, User } from '../store/types.js';
import type { SessionError } from './session-error.js';

export interface ActiveSession {
  id: string;
  user: User;
  resource: Resource;
  /** Ends the session, sending the client this error first. */
  terminate(error: SessionError): void;
  /** Resolves once the session's sockets have closed. */
  closed: Promise<void>;
}

/** The sessions open on this node, so access changes and shutdown can reach them. */
export class SessionRegistry {
  private readonly sessions = new Map<string, ActiveSession>();

  add(session: ActiveSession): void {
    this.sessions.set(session.id, session);
    void session.closed.finally(() => this.sessions.delete(session.id));
  }

  list(): ActiveSession[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Resolves when every session has closed, or after `timeoutMs`, whichever is first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const all = Promise.all(this.list().map((session) => session.closed)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return drained;
  }
}
