import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from './metrics.ts';

function gauge(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is rendered`);
  return Number(line.slice(series.length + 1));
}

describe('the operator metrics registry', () => {
  it("renders the process's memory: RSS and its peak, the V8 heap and its young generation, Buffers", () => {
    const held = Buffer.alloc(4 * 1024 * 1024, 1);
    const text = new MetricsRegistry().render();
    const rss = gauge(text, 'process_resident_memory_bytes');
    assert.ok(rss > 0);
    assert.ok(gauge(text, 'process_resident_memory_max_bytes') >= rss, 'the peak is at least the current RSS');
    const heapUsed = gauge(text, 'nodejs_heap_size_used_bytes');
    assert.ok(heapUsed > 0 && heapUsed <= gauge(text, 'nodejs_heap_size_total_bytes'));
    assert.ok(gauge(text, 'nodejs_array_buffers_bytes') >= held.length, 'a Buffer held counts');
    assert.ok(gauge(text, 'nodejs_external_memory_bytes') >= gauge(text, 'nodejs_array_buffers_bytes'));
    assert.ok(gauge(text, 'nodejs_heap_space_size_total_bytes{space="new_space"}') > 0);
    assert.ok(gauge(text, 'nodejs_heap_space_size_used_bytes{space="old_space"}') > 0);
  });
});
