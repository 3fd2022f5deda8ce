/**
 * A counting semaphore: at most `size` holders at once, waiters served first come, first served.
 * A waiter whose signal aborts leaves the queue and its acquire() rejects with the signal's reason.
 */
export class Slots {
  private free: number;
  private readonly waiters = new Set<() => void>();

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slots must be a positive integer: ${size}`);
    this.free = size;
  }

  /** Callers queued for a slot. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Takes a free slot at once if there is one, without queueing: whether it did. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free -= 1;
    return true;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(grant);
        reject(signal!.reason);
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.add(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    // A Set iterates in insertion order: the longest waiter gets the slot.
    const [next] = this.waiters;
    if (next) {
      this.waiters.delete(next);
      next();
    } else {
      this.free += 1;
    }
  }
}
