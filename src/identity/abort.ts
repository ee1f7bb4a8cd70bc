/**
 * Settles like `work`, or rejects with `abortError()` as soon as `signal`
 * fires, whichever comes first. The work itself goes on, because neither
 * the token cache's shared fetch nor the Azure SDK's managed-identity
 * request can be cancelled, and its late result is dropped without an
 * unhandled rejection.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, abortError: () => Error): Promise<T> {
  if (!signal) {
    return work;
  }

  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError());
  }

  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });

    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
