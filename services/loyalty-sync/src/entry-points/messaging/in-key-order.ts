import type { Slots } from '@app/service-kit';

export interface InKeyOrderOptions<T> {
  items: readonly T[];
  keyOf: (item: T) => string;
  /** Handles one item: true when it is finished, false when it must be handled again later. */
  handle: (item: T) => Promise<boolean>;
  /** Shared by every caller in the process: bounds the items being handled at once. */
  slots: Slots;
  /** Checked before each item starts; false stops starting new ones. */
  mayStart: () => boolean;
  /** Called once per item, in item order, for the longest finished prefix. */
  onFinishedInOrder: (item: T) => void;
}

/**
 * Handles items of different keys concurrently and the items of one key one after the other,
 * in order. Progress is reported only as a finished prefix, so whoever resumes from the first
 * unreported item sees every unfinished one again.
 *
 * When an item is not finished (handle returns false or throws) nothing more is started, and
 * later items of its key never run. Items of other keys already running complete; being past the
 * gap, they are not reported and will be seen again, so handling must be idempotent.
 */
export async function handleInKeyOrder<T>(options: InKeyOrderOptions<T>): Promise<void> {
  const { items, keyOf, handle, slots, mayStart, onFinishedInOrder } = options;
  const finished = new Array<boolean>(items.length).fill(false);
  const lastOfKey = new Map<string, Promise<unknown>>();
  const started: Promise<boolean>[] = [];
  let halted = false;
  let failure: { error: unknown } | undefined;
  let reported = 0;

  const reportPrefix = () => {
    while (reported < items.length && finished[reported]) onFinishedInOrder(items[reported++]!);
  };

  for (const [index, item] of items.entries()) {
    if (halted || !mayStart()) break;
    await slots.acquire();
    if (halted || !mayStart()) {
      slots.release();
      break;
    }
    const key = keyOf(item);
    const previous = lastOfKey.get(key) ?? Promise.resolve();
    const current = previous
      .then(async () => {
        // An unfinished item halts everything, so its key's later items stop here too.
        if (halted) return false;
        const done = await handle(item);
        if (!done) {
          halted = true;
          return false;
        }
        finished[index] = true;
        reportPrefix();
        return true;
      })
      .catch((error: unknown) => {
        halted = true;
        failure ??= { error };
        return false;
      })
      .finally(() => slots.release());
    lastOfKey.set(key, current);
    started.push(current);
  }
  await Promise.all(started);
  if (failure) throw failure.error;
}
