import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from './metrics.ts';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const registry = new MetricsRegistry();
    const connections = registry.counter('ll_connections_total', 'Connections accepted.', ['route', 'tenant']);
    connections.inc({ route: 'a.test', tenant: 'acme' });
    connections.labels({ route: 'a.test', tenant: 'acme' }).inc(2);
    registry.gauge('ll_generation', 'Table generation.').set({}, 7);
    const sizes = registry.histogram('ll_hello_bytes', 'Hello sizes.', [], [512, 2048]);
    sizes.observe({}, 300);
    sizes.observe({}, 1600);
    sizes.observe({}, 9000);
    assert.equal(
      registry.render(),
      [
        '# HELP ll_connections_total Connections accepted.',
        '# TYPE ll_connections_total counter',
        'll_connections_total{route="a.test",tenant="acme"} 3',
        '# HELP ll_generation Table generation.',
        '# TYPE ll_generation gauge',
        'll_generation 7',
        '# HELP ll_hello_bytes Hello sizes.',
        '# TYPE ll_hello_bytes histogram',
        'll_hello_bytes_bucket{le="512"} 1',
        'll_hello_bytes_bucket{le="2048"} 2',
        'll_hello_bytes_bucket{le="+Inf"} 3',
        'll_hello_bytes_sum 10900',
        'll_hello_bytes_count 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values a tenant could control', () => {
    const registry = new MetricsRegistry();
    registry.counter('c', 'h', ['sni']).inc({ sni: 'a"b\\c\nd' });
    assert.match(registry.render(), /c\{sni="a\\"b\\\\c\\nd"\} 1/);
  });

  it('refuses a counter decrement and a duplicate metric name', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('c', 'h');
    assert.throws(() => counter.inc({}, -1));
    assert.throws(() => registry.gauge('c', 'h'));
  });
});
