import { Slots } from '../src/slots.ts';

const settled = async <T>(promise: Promise<T>) => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('slots', () => {
  test('when a slot is free, then tryAcquire takes it at once, and once none is free it takes nothing and queues nothing', async () => {
    const slots = new Slots(1);

    expect(slots.tryAcquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(false);
    expect(slots.waiting).toBe(0);
    const waiter = slots.acquire();
    slots.release();
    expect(await settled(waiter)).toBe('resolved');
  });

  test('when every slot is taken, then the next caller waits until one is released, first come first served', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    const second = slots.acquire();
    const third = slots.acquire();

    expect(await settled(second)).toBe('pending');
    expect(slots.waiting).toBe(2);
    slots.release();
    expect(await settled(second)).toBe('resolved');
    expect(await settled(third)).toBe('pending');
    slots.release();
    expect(await settled(third)).toBe('resolved');
    expect(slots.waiting).toBe(0);
  });

  test('when a waiter gives up, then it leaves the queue with its reason and the slot goes to the next one', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    const giveUp = new AbortController();
    const impatient = slots.acquire(giveUp.signal);
    const patient = slots.acquire();

    giveUp.abort(new Error('waited too long'));
    await expect(impatient).rejects.toThrow('waited too long');
    expect(slots.waiting).toBe(1);
    slots.release();
    expect(await settled(patient)).toBe('resolved');
  });

  test('when released with nobody waiting, then the slot is free for the next caller at once', async () => {
    const slots = new Slots(2);
    await slots.acquire();
    await slots.acquire();
    slots.release();

    expect(await settled(slots.acquire())).toBe('resolved');
    expect(() => new Slots(0)).toThrow(RangeError);
  });
});
