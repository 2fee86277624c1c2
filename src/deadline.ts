// A promise that must settle in time. Some waits depend on a peer keeping its side of a protocol
// (a broker answering a request, a connection reporting that it closed), and a client library
// that loses track of a request leaves its promise pending forever. A deadline turns that into
// an error the caller's retry handles.

/** `work`, or `error()` thrown once `ms` have passed without it settling. */
export async function withDeadline<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Disconnects a client that is no longer trusted, without waiting on it: its lost requests may
 * hold its disconnect forever, and nothing depends on it any more.
 */
export function letGo(client: { disconnect(): Promise<unknown> } | undefined): void {
  if (client) void withDeadline(client.disconnect(), 5_000, () => new Error('disconnect')).catch(() => {});
}
