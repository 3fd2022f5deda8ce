/** The benchmark's view of provider-sim's loyalty card API: stats, histories and the latency knob. */
import type { CustomerView, HistoryEntry, SimulatorStats } from '@app/provider-sim';

export type { CustomerView, HistoryEntry } from '@app/provider-sim';

const TIMEOUT_MS = 10_000;
const HISTORY_CONCURRENCY = 8;

export class ProviderSimClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  /** fetch with a timeout, whose failure names the request. */
  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw new Error(`provider-sim ${init.method ?? 'GET'} ${path}: ${String(error)}`, { cause: error });
    }
  }

  async stats(): Promise<SimulatorStats> {
    const response = await this.call('/stats');
    if (!response.ok) throw new Error(`provider-sim GET /stats: ${response.status}`);
    return (await response.json()) as SimulatorStats;
  }

  async customer(id: number | string): Promise<CustomerView | undefined> {
    const response = await this.call(`/customers/${id}`);
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (!response.ok) throw new Error(`provider-sim GET /customers/${id}: ${response.status}`);
    return (await response.json()) as CustomerView;
  }

  /** Every history entry of the given customers (a few requests at a time). */
  async histories(ids: readonly (number | string)[]): Promise<Map<string, HistoryEntry[]>> {
    const result = new Map<string, HistoryEntry[]>();
    let next = 0;
    const lane = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        result.set(String(id), (await this.customer(id))?.history ?? []);
      }
    };
    await Promise.all(Array.from({ length: HISTORY_CONCURRENCY }, lane));
    return result;
  }

  /** Clears customers, counters and fault knobs. */
  async reset(): Promise<void> {
    const response = await this.call('/_reset', { method: 'POST' });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`provider-sim POST /_reset: ${response.status}`);
  }

  async setLatency(latencyMs: number): Promise<void> {
    const response = await this.call('/_faults', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latency_ms: latencyMs }),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`provider-sim PUT /_faults: ${response.status}`);
  }
}
