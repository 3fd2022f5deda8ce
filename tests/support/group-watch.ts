import type { Admin } from 'kafkajs';

export interface GroupSample {
  at: number;
  /** Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  state: string;
  members: number;
}

export interface GroupWatch {
  samples(): readonly GroupSample[];
  /** The first sample from `since` on that is Stable with `members` members. */
  stableWith(members: number, since: number): GroupSample | undefined;
  /**
   * The rebalance that followed `since`: from the first sample that was not Stable (or, if the polls
   * never caught one, `since`) to the first Stable sample with `members` members after it.
   */
  rebalance(
    members: number,
    since: number,
  ): { startedAt: number; stableAt: number; observed: boolean } | undefined;
  stop(): Promise<void>;
}

/** Polls a consumer group's state every `intervalMs` through the admin client. */
export function watchGroup(admin: Admin, groupId: string, intervalMs = 100): GroupWatch {
  const samples: GroupSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { groups } = await admin.describeGroups([groupId]);
        const group = groups[0];
        if (group) samples.push({ at: Date.now(), state: group.state, members: group.members.length });
      } catch {
        // A describe during a coordinator change fails; the next poll tells.
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  const stableWith = (members: number, since: number) =>
    samples.find((sample) => sample.at >= since && sample.state === 'Stable' && sample.members === members);
  return {
    samples: () => samples,
    stableWith,
    rebalance(members, since) {
      const unstable = samples.find((sample) => sample.at >= since && sample.state !== 'Stable');
      const stable = stableWith(members, unstable?.at ?? since);
      if (!stable) return undefined;
      return { startedAt: unstable?.at ?? since, stableAt: stable.at, observed: unstable !== undefined };
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
