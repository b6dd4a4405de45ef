/**
 * A log-linear latency histogram in microseconds: exact below 128 µs, then 64 sub-buckets per power of two,
 * so any percentile is within 1/64 (1.6 %) of the true value. Fixed size (a few KB), cheap to record, and
 * mergeable across worker threads by adding the counts.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const LINEAR = SUB * 2; // values below 128 µs get their own bucket
const MAX_EXP = 40; // ~1.1e12 µs; anything above is clamped
export const HISTOGRAM_BUCKETS = LINEAR + (MAX_EXP - 7 + 1) * SUB;

function bucketOf(us: number): number {
  if (!(us > 0)) return 0;
  if (us < LINEAR) return Math.floor(us);
  const e = Math.min(MAX_EXP, Math.floor(Math.log2(us)));
  const shift = e - SUB_BITS;
  const m = Math.min(2 * SUB - 1, Math.floor(us / 2 ** shift)); // 64..127
  return LINEAR + (e - 7) * SUB + (m - SUB);
}

/** Upper edge of a bucket (what a percentile reports). */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket + 1;
  const i = bucket - LINEAR;
  const e = Math.floor(i / SUB) + 7;
  const m = (i % SUB) + SUB;
  return (m + 1) * 2 ** (e - SUB_BITS);
}

/** What crosses the worker boundary. */
export interface HistogramData {
  counts: number[];
  count: number;
  max: number;
  sum: number;
}

export class Histogram {
  counts = new Float64Array(HISTOGRAM_BUCKETS);
  count = 0;
  max = 0;
  sum = 0;

  record(us: number): void {
    const v = us < 0 ? 0 : us;
    this.counts[bucketOf(v)]! += 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }

  /** Sparse-friendly export: trailing zero buckets are trimmed. */
  toData(): HistogramData {
    let last = this.counts.length - 1;
    while (last >= 0 && this.counts[last] === 0) last--;
    return { counts: Array.from(this.counts.subarray(0, last + 1)), count: this.count, max: this.max, sum: this.sum };
  }

  add(d: HistogramData): void {
    for (let i = 0; i < d.counts.length; i++) this.counts[i]! += d.counts[i]!;
    this.count += d.count;
    this.sum += d.sum;
    if (d.max > this.max) this.max = d.max;
  }

  /** The p-th percentile (0–100) in µs, or NaN when empty. Never above the exact max. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/** µs → ms rounded to 0.01, or null when there is no sample (JSON-friendly). */
export const ms = (us: number): number | null => (Number.isFinite(us) ? Math.round(us / 10) / 100 : null);
