/**
 * The operator's metrics: the shared Prometheus registry (src/shared/metrics.ts), plus collect
 * hooks that refresh gauges (and counters mirrored from elsewhere, like the client's request
 * counts) just before each render. Every metric declares its label names; a series is read back
 * with `metric.labels({...}).value`. The process's memory is always included (names as the common
 * Node.js exporters use), since the operator's footprint grows with the objects it caches.
 */
import { MetricsRegistry as SharedRegistry, type Counter, type Gauge } from '../../shared/metrics.ts';

export { Counter, Gauge } from '../../shared/metrics.ts';

export class MetricsRegistry {
  readonly #registry = new SharedRegistry();
  readonly #collectors: Array<() => void> = [];

  constructor() {
    const rss = this.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', []);
    const heapUsed = this.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', []);
    const heapTotal = this.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes.', []);
    this.onCollect(() => {
      const usage = process.memoryUsage();
      rss.set({}, usage.rss);
      heapUsed.set({}, usage.heapUsed);
      heapTotal.set({}, usage.heapTotal);
    });
  }

  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    return this.#registry.counter(name, help, labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    return this.#registry.gauge(name, help, labelNames);
  }

  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  render(): string {
    for (const collect of this.#collectors) collect();
    return this.#registry.render();
  }
}
