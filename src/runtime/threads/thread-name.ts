// Names the calling thread as the OS sees it (/proc/<pid>/task/<tid>/comm, what top -H and the
// pipelines benchmark show), so the costly thread of a process is named, not one `node` of many.
// Linux lets a thread rename itself through /proc/thread-self; elsewhere, or in a sandbox that
// forbids it, the thread keeps its name: nothing depends on it.

import { writeFileSync } from 'node:fs';

/** At most 15 bytes are kept by the kernel. */
export function nameThisThread(name: string): void {
  if (process.platform !== 'linux') return;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not permitted here: the name is for people reading top, never for the runtime.
  }
}
