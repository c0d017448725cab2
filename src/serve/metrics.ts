/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library: a few
 * counters, gauges read at scrape time, and histograms with fixed buckets.
 */

type Labels = Record<string, string>;

const labelText = (l: Labels) => {
  const keys = Object.keys(l);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${l[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
};

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A gauge read at scrape time, one series per label set (one per served model). */
export class Gauge implements Metric {
  private readonly series: { labels: Labels; read: () => number }[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  add(labels: Labels, read: () => number): void {
    this.series.push({ labels, read });
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, read } of this.series) lines.push(`${this.name}${labelText(labels)} ${read()}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Array(buckets.length).fill(0);
  }

  observe(v: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  get total(): number {
    return this.count;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOKEN_LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The server's metrics. */
export class ServerMetrics {
  readonly requests = new Counter('dsts_http_requests_total', 'HTTP requests by route and status code.');
  readonly finished = new Counter('dsts_generations_total', 'Generations by finish reason (stop, length, abort).');
  readonly promptTokens = new Counter('dsts_prompt_tokens_total', 'Prompt tokens of started generations.');
  readonly cacheHitTokens = new Counter('dsts_prompt_cache_hit_tokens_total', 'Prompt tokens served from the prefix cache.');
  readonly generationTokens = new Counter('dsts_generation_tokens_total', 'Tokens generated.');
  readonly requestDuration = new Histogram('dsts_request_duration_seconds', 'Generation time from queueing to the last token.', LATENCY);
  readonly queueWait = new Histogram('dsts_queue_wait_seconds', 'Time a request waited for a batch slot.', LATENCY);
  readonly ttft = new Histogram('dsts_time_to_first_token_seconds', 'Time from queueing to the first token.', LATENCY);
  readonly itl = new Histogram('dsts_inter_token_latency_seconds', 'Time between consecutive tokens of one generation.', TOKEN_LATENCY);
  readonly step = new Histogram(
    'dsts_step_duration_seconds',
    'Duration of one scheduler step (one batched forward or more).',
    TOKEN_LATENCY,
  );
  readonly batch = new Histogram('dsts_batch_size', 'Sequences decoded together per step.', [1, 2, 4, 8, 16, 32, 64, 128]);
  // Speculative decoding (vLLM's spec_decode_* names): acceptance rate = accepted / draft tokens,
  // mean accepted per verification = accepted / drafts; per position, conditional on the drafts before.
  readonly specDrafts = new Counter('dsts_spec_decode_num_drafts_total', 'Speculative verification steps (one per sequence and step).');
  readonly specDraftTokens = new Counter('dsts_spec_decode_num_draft_tokens_total', 'Draft tokens proposed by the MTP module.');
  readonly specAcceptedTokens = new Counter('dsts_spec_decode_num_accepted_tokens_total', 'Draft tokens the model verified and kept.');
  readonly specAcceptedPerPosition = new Counter(
    'dsts_spec_decode_num_accepted_tokens_per_pos_total',
    'Draft tokens kept, by draft position (0 = the first draft of a step).',
  );
  private readonly gauges = new Map<string, Gauge>();

  /** Adds a series, read at scrape time, to a gauge (queue depth, running sequences, …). */
  gauge(name: string, help: string, read: () => number, labels: Labels = {}): void {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = new Gauge(name, help)));
    g.add(labels, read);
  }

  render(): string {
    const all: Metric[] = [
      this.requests,
      this.finished,
      this.promptTokens,
      this.cacheHitTokens,
      this.generationTokens,
      ...this.gauges.values(),
      this.requestDuration,
      this.queueWait,
      this.ttft,
      this.itl,
      this.step,
      this.batch,
      this.specDrafts,
      this.specDraftTokens,
      this.specAcceptedTokens,
      this.specAcceptedPerPosition,
    ];
    return `${all.map((m) => m.render()).join('\n')}\n`;
  }
}
