import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alpnExtension, clientHello, postQuantumKeyShareExtension, serverNameExtension } from '../testing/hello-builder.ts';
import { createClientHelloParser } from './parser.ts';

/** A small deterministic PRNG (mulberry32) so a failure reproduces from the seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseClientHello under fuzzing', () => {
  it('never throws and always finishes on mutated hellos (seed 1, 20 000 cases)', () => {
    const random = prng(1);
    const seeds = [
      clientHello([serverNameExtension('a.test'), alpnExtension(['h2'])]),
      clientHello([postQuantumKeyShareExtension(), serverNameExtension('b.acme.test')], 300),
    ];
    const verdicts = new Map<string, number>();
    for (let i = 0; i < 20_000; i += 1) {
      const bytes = Buffer.from(seeds[i % seeds.length]!);
      const mutations = 1 + Math.floor(random() * 8);
      for (let m = 0; m < mutations; m += 1) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? Math.floor(random() * bytes.length) : bytes.length;
      const parser = createClientHelloParser({ maxBytes: 4096 });
      let kind = 'needMore';
      for (let offset = 0; offset < cut && kind === 'needMore'; ) {
        const size = 1 + Math.floor(random() * 64);
        const step = parser.feed(bytes.subarray(offset, Math.min(cut, offset + size)));
        kind = step.kind === 'error' ? step.reason : step.kind;
        offset += size;
      }
      verdicts.set(kind, (verdicts.get(kind) ?? 0) + 1);
    }
    // The corpus must exercise several outcomes, or the fuzzer is not reaching the parser's depth.
    assert.ok((verdicts.get('hello') ?? 0) > 100, JSON.stringify([...verdicts]));
    assert.ok((verdicts.get('malformed') ?? 0) > 100, JSON.stringify([...verdicts]));
  });

  it('never throws on random bytes (seed 2, 20 000 cases)', () => {
    const random = prng(2);
    for (let i = 0; i < 20_000; i += 1) {
      const bytes = Buffer.alloc(1 + Math.floor(random() * 600));
      for (let j = 0; j < bytes.length; j += 1) bytes[j] = Math.floor(random() * 256);
      if (random() < 0.5) bytes[0] = 22;
      const step = createClientHelloParser().feed(bytes);
      assert.ok(['needMore', 'hello', 'error'].includes(step.kind));
    }
  });
});
