// What a boot server tells the admin console about itself (heartbeats): requests and errors
// since the last beat, and a latency percentile from a fixed histogram, so counting costs a
// few integer additions per request and no allocation.

// Upper bounds in ms of the histogram's buckets; the last catches everything slower.
const BOUNDS_MS = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity];

export type StatsWindow = { requests: number; errors: number; seconds: number; p99Ms: number | null };

export class RequestStats {
  private buckets = new Array<number>(BOUNDS_MS.length).fill(0);
  private requests = 0;
  private errors = 0;
  private since = performance.now();
  totalRequests = 0;
  totalErrors = 0;

  begin(): number {
    return performance.now();
  }

  end(started: number, status: number): void {
    const ms = performance.now() - started;
    let i = 0;
    while (ms > BOUNDS_MS[i]!) i++;
    this.buckets[i]!++;
    this.requests++;
    this.totalRequests++;
    // Server errors only: a 404 for a bad token is the machine's mistake, not the server's.
    if (status >= 500) {
      this.errors++;
      this.totalErrors++;
    }
  }

  /** The window since the last call, then a fresh one. */
  take(): StatsWindow {
    const now = performance.now();
    const w: StatsWindow = { requests: this.requests, errors: this.errors, seconds: (now - this.since) / 1000, p99Ms: null };
    if (this.requests > 0) {
      const rank = Math.ceil(this.requests * 0.99);
      let seen = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        seen += this.buckets[i]!;
        if (seen >= rank) {
          w.p99Ms = Number.isFinite(BOUNDS_MS[i]!) ? BOUNDS_MS[i]! : BOUNDS_MS[i - 1]!;
          break;
        }
      }
    }
    this.buckets.fill(0);
    this.requests = 0;
    this.errors = 0;
    this.since = now;
    return w;
  }
}
