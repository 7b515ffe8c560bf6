/**
 * The operator's metrics: the shared Prometheus registry (src/shared/metrics.ts), plus collect
 * hooks that refresh gauges (and counters mirrored from elsewhere, like the client's request
 * counts) just before each render. Every metric declares its label names; a series is read back
 * with `metric.labels({...}).value`. The process's memory is always included (names as the common
 * Node.js exporters use), since the operator's footprint grows with the objects it caches.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { MetricsRegistry as SharedRegistry, type Counter, type Gauge } from '../../shared/metrics.ts';

export { Counter, Gauge } from '../../shared/metrics.ts';

export class MetricsRegistry {
  readonly #registry = new SharedRegistry();
  readonly #collectors: Array<() => void> = [];

  constructor() {
    this.#processGauges();
  }

  /**
   * The process's memory, as the prom-client default metrics name it, plus what those lack: the
   * peak RSS (what a memory limit is sized by) and Buffer memory, so RSS outside the V8 heap can
   * be told apart from the heap (per space: the young generation is `new_space`).
   */
  #processGauges(): void {
    const rss = this.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', []);
    const rssPeak = this.gauge('process_resident_memory_max_bytes', 'Peak resident memory size since the process started, in bytes.', []);
    const heapUsed = this.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', []);
    const heapTotal = this.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes.', []);
    const external = this.gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (Buffers included), in bytes.', []);
    const arrayBuffers = this.gauge('nodejs_array_buffers_bytes', 'Memory of ArrayBuffers and Buffers, in bytes.', []);
    const spaceUsed = this.gauge('nodejs_heap_space_size_used_bytes', 'V8 heap space in use, in bytes.', ['space']);
    const spaceTotal = this.gauge('nodejs_heap_space_size_total_bytes', 'V8 heap space reserved, in bytes.', ['space']);
    this.onCollect(() => {
      const usage = process.memoryUsage();
      rss.set({}, usage.rss);
      rssPeak.set({}, process.resourceUsage().maxRSS * 1024);
      heapUsed.set({}, usage.heapUsed);
      heapTotal.set({}, usage.heapTotal);
      external.set({}, usage.external);
      arrayBuffers.set({}, usage.arrayBuffers);
      for (const space of getHeapSpaceStatistics()) {
        spaceUsed.set({ space: space.space_name }, space.space_used_size);
        spaceTotal.set({ space: space.space_name }, space.space_size);
      }
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
