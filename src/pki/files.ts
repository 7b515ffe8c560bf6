/**
 * The I/O shell for PKI directories: PEM files named like the Secret keys (tls.crt, tls.key,
 * ca.crt, ca.crl). Private keys are written with mode 0600 and never overwritten without `force`.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LandlordError } from '../shared/errors.ts';
import type { PemBundle } from './authority.ts';
import { bundleFiles, bundleFromFiles, pemFileNames } from './secrets.ts';

export async function readPkiDirectory(dir: string): Promise<PemBundle> {
  return bundleFromFiles(await readPkiFiles(dir), dir);
}

/** The PKI files present in `dir`, by name (tls.crt, tls.key, ca.crt, ca.crl). */
export async function readPkiFiles(dir: string): Promise<Record<string, string>> {
  if (!(await isDirectory(dir))) {
    throw new LandlordError('LL_PKI_DIRECTORY_MISSING', `${dir} is not a directory`, {
      hint: 'pass a directory written by "landlord pki init-root", "tenant-ca" or "issue"',
    });
  }
  const files: Record<string, string> = {};
  for (const name of Object.values(pemFileNames)) {
    const text = await readOptional(path.join(dir, name));
    if (text !== undefined) files[name] = text;
  }
  return files;
}

export interface WriteOptions {
  /** Replace an existing tls.key. */
  readonly force?: boolean;
}

/**
 * Writes the bundle's files into `dir` (created 0700 if missing). Refuses to replace an existing
 * tls.key unless `force` (`LL_PKI_KEY_EXISTS`): a lost CA key cannot be recovered.
 */
export async function writePkiDirectory(dir: string, bundle: PemBundle, options: WriteOptions = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, pemFileNames.privateKey);
  if (bundle.privateKey !== undefined && !options.force && (await readOptional(keyFile)) !== undefined) {
    throw new LandlordError('LL_PKI_KEY_EXISTS', `${keyFile} already exists`, {
      hint: 'choose another --out directory, or pass --force to replace the key (the old one is lost)',
    });
  }
  const written: string[] = [];
  for (const [name, content] of Object.entries(bundleFiles(bundle))) {
    const file = path.join(dir, name);
    await writeAtomically(file, content, name === pemFileNames.privateKey ? 0o600 : 0o644);
    written.push(file);
  }
  return written;
}

export async function writeRevocationList(dir: string, crlPem: string): Promise<string> {
  const file = path.join(dir, pemFileNames.crl);
  await writeAtomically(file, crlPem, 0o644);
  return file;
}

export async function readPemFile(file: string): Promise<string> {
  const text = await readOptional(file);
  if (text === undefined) throw new LandlordError('LL_PKI_FILE_MISSING', `${file} does not exist`);
  return text;
}

export async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** Write to a temporary file with the final mode, then rename: readers never see half a file. */
async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode, flag: 'w' });
  await chmod(temporary, mode);
  await rename(temporary, file);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LandlordError('LL_PKI_FILE_UNREADABLE', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
