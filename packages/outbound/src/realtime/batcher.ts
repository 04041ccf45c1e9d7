// The micro-batcher (docs/architecture.md "Realtime sends"): contacts waiting for the same content
// group and channel go out together, at `maxBatch` waiting or `flushMs` after the first arrived,
// so one POST carries many messages under load and a lone contact leaves within the delay.

export interface BatcherOptions<T, R> {
  flushMs: number;
  maxBatch: number;
  /** Sends one group's items; resolves with one result per item, in order (an Error: that item fails). */
  flush(key: string, items: T[]): Promise<(R | Error)[]>;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class MicroBatcher<T, R> {
  private readonly groups = new Map<
    string,
    { waiting: Waiting<T, R>[]; timer: NodeJS.Timeout | null }
  >();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BatcherOptions<T, R>) {}

  add(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = { waiting: [], timer: null };
        this.groups.set(key, group);
      }
      group.waiting.push({ item, resolve, reject });
      if (group.waiting.length >= this.options.maxBatch) {
        this.flush(key);
      } else if (!group.timer) {
        group.timer = setTimeout(() => this.flush(key), this.options.flushMs);
      }
    });
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    if (group.timer) clearTimeout(group.timer);
    this.groups.delete(key);
    const batch = group.waiting;
    const done = this.options
      .flush(
        key,
        batch.map((waiting) => waiting.item),
      )
      .then(
        (results) => {
          batch.forEach((waiting, i) => {
            const result = results[i];
            if (result instanceof Error) waiting.reject(result);
            else waiting.resolve(result as R);
          });
        },
        (error: unknown) => {
          for (const waiting of batch) waiting.reject(error);
        },
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** Sends everything waiting now and waits for every send in flight (clean shutdown). */
  async drain(): Promise<void> {
    for (const key of [...this.groups.keys()]) this.flush(key);
    await Promise.all(this.inFlight);
  }

  get waiting(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.waiting.length;
    return n;
  }
}
