/**
 * Single-layer container images as docker-archive tarballs (what `ctr images import` reads):
 * `manifest.json`, an image config, and one layer tar. Layers are written with fixed mtimes and
 * sorted entries, so the same inputs always give the same image ID.
 */
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TarWriter } from './tar.ts';

export interface ImageConfig {
  /** The name the image is tagged with, e.g. `landlord.dev/test-app:dev`. */
  reference: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

export interface ImageArchive {
  file: string;
  reference: string;
  /** sha256 of the image config: the image ID containerd reports. */
  id: string;
}

/** Adds files to a layer, creating each parent directory once. */
export class LayerBuilder {
  readonly #tar: TarWriter;
  readonly #dirs = new Set<string>(['']);

  constructor(tar: TarWriter) {
    this.#tar = tar;
  }

  directory(imagePath: string, mode = 0o755): void {
    const clean = trimSlashes(imagePath);
    if (this.#dirs.has(clean)) return;
    this.directory(path.posix.dirname(clean) === '.' ? '' : path.posix.dirname(clean));
    this.#tar.directory(clean, mode);
    this.#dirs.add(clean);
  }

  file(imagePath: string, content: Buffer | string, mode = 0o644): void {
    this.#parent(imagePath);
    this.#tar.fileFromBuffer(trimSlashes(imagePath), content, mode);
  }

  symlink(imagePath: string, target: string): void {
    this.#parent(imagePath);
    this.#tar.symlink(trimSlashes(imagePath), target);
  }

  /** Copies a host file (following symlinks) to `imagePath`, keeping its permission bits. */
  hostFile(imagePath: string, source: string): void {
    const stat = lstatSync(source, { throwIfNoEntry: true });
    const real = stat.isSymbolicLink() ? path.resolve(path.dirname(source), readlinkSync(source)) : source;
    if (real !== source) return this.hostFile(imagePath, real);
    this.#parent(imagePath);
    this.#tar.fileFromHost(trimSlashes(imagePath), source, stat.size, stat.mode & 0o7777);
  }

  /** Copies a host directory tree, keeping symlinks as symlinks; `skip` prunes host paths. */
  hostTree(imageDir: string, sourceDir: string, skip: (hostPath: string) => boolean = () => false): void {
    this.directory(imageDir);
    for (const name of readdirSync(sourceDir).sort()) {
      const source = path.join(sourceDir, name);
      if (skip(source)) continue;
      const target = path.posix.join(imageDir, name);
      const stat = lstatSync(source);
      if (stat.isSymbolicLink()) this.symlink(target, readlinkSync(source));
      else if (stat.isDirectory()) this.hostTree(target, source, skip);
      else if (stat.isFile()) this.#tar.fileFromHost(trimSlashes(target), source, stat.size, stat.mode & 0o7777);
    }
  }

  #parent(imagePath: string): void {
    const parent = path.posix.dirname(trimSlashes(imagePath));
    this.directory(parent === '.' ? '' : parent);
  }
}

export function writeImageArchive(out: string, config: ImageConfig, fill: (layer: LayerBuilder) => void): ImageArchive {
  const work = mkdtempSync(path.join(tmpdir(), 'landlord-image-'));
  try {
    const layerFile = path.join(work, 'layer.tar');
    const layerTar = new TarWriter(layerFile);
    fill(new LayerBuilder(layerTar));
    const layer = layerTar.close();

    const imageConfig = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
        ...(config.cmd ? { Cmd: config.cmd } : {}),
        Env: config.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'],
        ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
        ...(config.user ? { User: config.user } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    });
    const id = `sha256:${createHash('sha256').update(imageConfig).digest('hex')}`;
    const configName = `${id.slice('sha256:'.length)}.json`;
    const manifest = JSON.stringify([{ Config: configName, RepoTags: [config.reference], Layers: ['layer.tar'] }]);

    const archive = new TarWriter(out);
    archive.fileFromBuffer('manifest.json', manifest);
    archive.fileFromBuffer(configName, imageConfig);
    archive.fileFromHost('layer.tar', layerFile, layer.size, 0o644);
    archive.close();
    return { file: out, reference: config.reference, id };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, '');
}
