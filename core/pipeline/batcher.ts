// The bounded record queue in front of the model chain. Records are taken in batches of up to
// batch_size, or whatever has arrived after batch_wait_ms; up to inFlight batches are processed at
// once, so one slow model call does not hold up the batches behind it.
// Ingesting never blocks: a full queue drops the record and says so (the caller counts it).
export interface BatcherOptions<T> {
  batchSize: number;
  batchWaitMs: number;
  queueSize: number;
  /** Batches processed at once (default 1). */
  inFlight?: number;
  process(batch: T[]): Promise<void>;
  onError(err: Error): void;
}
export class Batcher<T> {
  private readonly queue: T[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy = 0;
  private open = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly opts: BatcherOptions<T>) {}

  /** False when the queue is full (the record is not taken) or the batcher is closed. */
  push(record: T): boolean {
    if (this.closed || this.queue.length >= this.opts.queueSize) return false;
    this.queue.push(record);
    this.schedule();
    return true;
  }

  /** Starts processing (records pushed before wait in the queue). */
  start(): void {
    this.open = true;
    this.schedule();
  }

  /** Stops taking records; the batch in flight finishes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once every queued record has been processed. */
  whenIdle(): Promise<void> {
    if (this.busy === 0 && (this.queue.length === 0 || this.closed)) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.busy >= (this.opts.inFlight ?? 1) || !this.open || this.closed || this.queue.length === 0) return;
    if (this.queue.length >= this.opts.batchSize) {
      void this.run();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.opts.batchWaitMs);
    }
  }

  private async run(): Promise<void> {
    if (this.busy >= (this.opts.inFlight ?? 1) || this.queue.length === 0) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.busy++;
    try {
      await this.opts.process(this.queue.splice(0, this.opts.batchSize));
    } catch (err) {
      this.opts.onError(err as Error);
    } finally {
      this.busy--;
      if (this.queue.length > 0 && !this.closed) this.schedule();
      else if (this.busy === 0) for (const f of this.idle.splice(0)) f();
    }
  }
}
