import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseLdd, productionDependencyDirs } from './images.ts';

describe('parseLdd', () => {
  it('lists libraries and the loader, skipping the vdso', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    ].join('\n');
    assert.deepEqual(parseLdd(output), ['/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
});

describe('productionDependencyDirs', () => {
  const root = path.resolve(import.meta.dirname, '..', '..', '..');
  const dirs = productionDependencyDirs(root);

  it('includes runtime dependencies and leaves out dev tools and the node runtime package', () => {
    assert.ok(dirs.includes('node_modules/@kubernetes/client-node'));
    assert.ok(!dirs.includes('node_modules/typescript'));
    assert.ok(!dirs.includes('node_modules/eslint'));
    assert.ok(!dirs.some((dir) => dir === 'node_modules/node' || dir.startsWith('node_modules/node/')));
  });

  it('never lists a package inside one it already copies', () => {
    assert.ok(dirs.every((dir) => !dirs.some((other) => other !== dir && dir.startsWith(`${other}/`))));
  });
});
