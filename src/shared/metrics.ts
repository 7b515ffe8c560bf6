/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Hot paths bind label values once with `labels(...)` and then
 * only add numbers, so counting a byte or a connection costs a map lookup at most.
 */

export type LabelValues = Readonly<Record<string, string>>;

interface Metric {
  render(): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Children keyed by their label values; shared by the three metric kinds. */
abstract class Family<Child> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly children = new Map<string, { values: string[]; child: Child }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!metricName.test(name)) throw new Error(`invalid metric name ${name}`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The child for these label values (every label name must be given), created on first use. */
  labels(values: LabelValues = {}): Child {
    const ordered = this.labelNames.map((name) => values[name] ?? '');
    const key = ordered.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      entry = { values: ordered, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract create(): Child;
  protected abstract type(): string;
  protected abstract lines(values: string[], child: Child): string[];

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type()}`];
    for (const { values, child } of this.children.values()) out.push(...this.lines(values, child));
    return out.join('\n');
  }
}

export interface CounterChild {
  inc(amount?: number): void;
  readonly value: number;
}

export class Counter extends Family<CounterChild> {
  inc(values: LabelValues = {}, amount = 1): void {
    this.labels(values).inc(amount);
  }

  protected create(): CounterChild {
    let value = 0;
    return {
      inc(amount = 1) {
        if (amount < 0) throw new Error('counters only go up');
        value += amount;
      },
      get value() {
        return value;
      },
    };
  }

  protected type(): string {
    return 'counter';
  }

  protected lines(values: string[], child: CounterChild): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatNumber(child.value)}`];
  }
}

export interface GaugeChild {
  set(value: number): void;
  inc(amount?: number): void;
  dec(amount?: number): void;
  readonly value: number;
}

export class Gauge extends Family<GaugeChild> {
  set(values: LabelValues, value: number): void {
    this.labels(values).set(value);
  }

  protected create(): GaugeChild {
    let value = 0;
    return {
      set(next) {
        value = next;
      },
      inc(amount = 1) {
        value += amount;
      },
      dec(amount = 1) {
        value -= amount;
      },
      get value() {
        return value;
      },
    };
  }

  protected type(): string {
    return 'gauge';
  }

  protected lines(values: string[], child: GaugeChild): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatNumber(child.value)}`];
  }
}

export interface HistogramChild {
  observe(value: number): void;
  readonly count: number;
  readonly sum: number;
  /** Cumulative counts per upper bound, `+Inf` last. */
  readonly buckets: readonly number[];
}

export class Histogram extends Family<HistogramChild> {
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(values: LabelValues, value: number): void {
    this.labels(values).observe(value);
  }

  protected create(): HistogramChild {
    const bounds = this.bounds;
    const counts = new Array<number>(bounds.length + 1).fill(0);
    let sum = 0;
    let count = 0;
    return {
      observe(value) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i += 1;
        counts[i]! += 1;
        sum += value;
        count += 1;
      },
      get count() {
        return count;
      },
      get sum() {
        return sum;
      },
      get buckets() {
        let running = 0;
        return counts.map((c) => (running += c));
      },
    };
  }

  protected type(): string {
    return 'histogram';
  }

  protected lines(values: string[], child: HistogramChild): string[] {
    const cumulative = child.buckets;
    const bucketLines = [...this.bounds, Infinity].map(
      (bound, i) => `${this.name}_bucket${labelText(this.labelNames, values, `le="${formatNumber(bound)}"`)} ${cumulative[i] ?? 0}`,
    );
    const labels = labelText(this.labelNames, values);
    return [...bucketLines, `${this.name}_sum${labels} ${formatNumber(child.sum)}`, `${this.name}_count${labels} ${child.count}`];
  }
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register(name, new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register(name, new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Histogram {
    return this.#register(name, new Histogram(name, help, labelNames, bounds));
  }

  /** The exposition text, served with content type `text/plain; version=0.0.4`. */
  render(): string {
    return `${[...this.#metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }

  #register<T extends Metric>(name: string, metric: T): T {
    if (this.#metrics.has(name)) throw new Error(`metric ${name} is already registered`);
    this.#metrics.set(name, metric);
    return metric;
  }
}

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';
