import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tarHeader, TarWriter } from './tar.ts';

describe('tar writer', () => {
  it('writes archives that GNU tar lists and extracts byte for byte', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'landlord-tar-'));
    try {
      const source = path.join(work, 'source.bin');
      const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
      writeFileSync(source, content);
      const longDir = `deep/${'d'.repeat(90)}/${'e'.repeat(60)}`;
      const writer = new TarWriter(path.join(work, 'out.tar'));
      writer.directory('app', 0o755);
      writer.fileFromBuffer('app/hello.txt', 'hello\n', 0o644);
      writer.fileFromHost('app/data.bin', source, content.length, 0o755);
      writer.symlink('app/link', 'hello.txt');
      writer.directory(longDir);
      writer.fileFromBuffer(`${longDir}/file-with-a-long-path.txt`, 'long\n');
      const { digest, size } = writer.close();
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(size % 512, 0);

      const listing = execFileSync('tar', ['-tvf', path.join(work, 'out.tar')], { encoding: 'utf8' });
      assert.match(listing, /^-rwxr-xr-x .* 3000 .* app\/data\.bin$/m);
      assert.match(listing, /app\/link -> hello\.txt/);
      const out = path.join(work, 'x');
      execFileSync('mkdir', [out]);
      execFileSync('tar', ['-xf', path.join(work, 'out.tar'), '-C', out]);
      assert.deepEqual(readFileSync(path.join(out, 'app/data.bin')), content);
      assert.equal(readFileSync(path.join(out, longDir, 'file-with-a-long-path.txt'), 'utf8'), 'long\n');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('gives the same bytes for the same entry (layers are reproducible)', () => {
    const entry = { type: 'file', path: 'a/b', mode: 0o644, size: 12 } as const;
    assert.deepEqual(tarHeader(entry), tarHeader(entry));
  });

  it('refuses a path that no ustar header can hold', () => {
    assert.throws(() => tarHeader({ type: 'file', path: 'x'.repeat(300), mode: 0o644, size: 0 }), /LL_IMAGE_NAME_TOO_LONG|too long/);
  });
});
