/**
 * Counters and gauges in the Prometheus text exposition format (version 0.0.4): just what the
 * operator exposes on /metrics. Label values are escaped; series are kept in insertion order.
 */
type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  protected readonly series = new Map<string, Series>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  abstract readonly type: 'counter' | 'gauge';

  protected entry(labels: Labels): Series {
    const key = JSON.stringify(Object.entries(labels).sort());
    let found = this.series.get(key);
    if (!found) {
      found = { labels, value: 0 };
      this.series.set(key, found);
    }
    return found;
  }

  value(labels: Labels = {}): number {
    return this.series.get(JSON.stringify(Object.entries(labels).sort()))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) {
      const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
      lines.push(`${this.name}${rendered.length ? `{${rendered.join(',')}}` : ''} ${value}`);
    }
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  readonly type = 'counter';

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge';

  set(value: number, labels: Labels = {}): void {
    this.entry(labels).value = value;
  }
}

/** A set of metrics rendered together; `collect` hooks refresh gauges just before rendering. */
export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  readonly #collectors: Array<() => void> = [];

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  render(): string {
    for (const collect of this.#collectors) collect();
    return `${this.#metrics.map((metric) => metric.render()).join('\n')}\n`;
  }

  #add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
}
