/**
 * A ustar archive writer: enough of POSIX tar for container image layers (regular files,
 * directories, symlinks; long names through the ustar prefix field).
 *
 * `tarHeader` is pure; `TarWriter` streams entries to a file so a 200 MB layer never sits in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { LandlordError } from '../../shared/errors.ts';

export type TarEntry =
  | { type: 'file'; path: string; mode: number; size: number; uid?: number; gid?: number }
  | { type: 'directory'; path: string; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string };

const block = 512;

export function tarHeader(entry: TarEntry): Buffer {
  const header = Buffer.alloc(block);
  const name = entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const [prefix, base] = splitName(name);
  const text = (offset: number, length: number, value: string): void => {
    header.write(value, offset, length, 'utf8');
  };
  const octal = (offset: number, length: number, value: number): void => {
    text(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  };
  text(0, 100, base);
  octal(100, 8, entry.type === 'symlink' ? 0o777 : entry.mode);
  octal(108, 8, entry.type === 'symlink' ? 0 : (entry.uid ?? 0));
  octal(116, 8, entry.type === 'symlink' ? 0 : (entry.gid ?? 0));
  octal(124, 12, entry.type === 'file' ? entry.size : 0);
  octal(136, 12, 0); // mtime: fixed, so the same inputs give the same layer digest
  text(156, 1, entry.type === 'file' ? '0' : entry.type === 'directory' ? '5' : '2');
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.target) > 100) throw new LandlordError('LL_IMAGE_NAME_TOO_LONG', `symlink target too long: ${entry.target}`);
    text(157, 100, entry.target);
  }
  text(257, 6, 'ustar\0');
  text(263, 2, '00');
  text(345, 155, prefix);
  header.fill(' ', 148, 156);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  text(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

function splitName(name: string): [prefix: string, base: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.lastIndexOf('/', name.length - 2); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100) return [prefix, base];
  }
  throw new LandlordError('LL_IMAGE_NAME_TOO_LONG', `path too long for a ustar archive: ${name}`);
}

/** Writes a tar stream to a file, hashing it as it goes (the hash is the layer's diff ID). */
export class TarWriter {
  readonly #fd: number;
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  constructor(file: string) {
    this.#fd = openSync(file, 'w');
  }

  directory(path: string, mode = 0o755): void {
    this.#write(tarHeader({ type: 'directory', path, mode }));
  }

  symlink(path: string, target: string): void {
    this.#write(tarHeader({ type: 'symlink', path, target }));
  }

  fileFromBuffer(path: string, content: Buffer | string, mode = 0o644): void {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    this.#write(tarHeader({ type: 'file', path, mode, size: data.length }));
    this.#write(data);
    this.#pad(data.length);
  }

  /** Copies a host file into the archive, streaming it in 1 MiB chunks. */
  fileFromHost(path: string, source: string, size: number, mode: number): void {
    this.#write(tarHeader({ type: 'file', path, mode, size }));
    const input = openSync(source, 'r');
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let copied = 0;
      while (copied < size) {
        const read = readSync(input, chunk, 0, Math.min(chunk.length, size - copied), copied);
        if (read === 0) throw new LandlordError('LL_IMAGE_SOURCE_CHANGED', `${source} shrank while it was being archived`);
        this.#write(chunk.subarray(0, read));
        copied += read;
      }
    } finally {
      closeSync(input);
    }
    this.#pad(size);
  }

  /** Ends the archive; returns its sha256 digest and size. */
  close(): { digest: string; size: number } {
    this.#write(Buffer.alloc(block * 2));
    closeSync(this.#fd);
    return { digest: `sha256:${this.#hash.digest('hex')}`, size: this.#size };
  }

  #pad(size: number): void {
    const rest = size % block;
    if (rest !== 0) this.#write(Buffer.alloc(block - rest));
  }

  #write(data: Buffer): void {
    for (let offset = 0; offset < data.length; ) offset += writeSync(this.#fd, data, offset);
    this.#hash.update(data);
    this.#size += data.length;
  }
}
