/**
 * The images the local node runs, built from files already on this machine (no registry is
 * reachable): the pause sandbox image, a tiny busybox test app, and landlord itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LandlordError } from '../../shared/errors.ts';
import { landlordEntrypoint } from '../../shared/image.ts';
import { writeImageArchive, type ImageArchive, type LayerBuilder } from './archive.ts';

/** The user images run as unless a pod says otherwise: not root, as restricted pod security wants. */
const imageUser = { uid: 65532, name: 'landlord' } as const;
export const testAppImage = 'landlord.dev/test-app:dev';
export const landlordImage = 'landlord.dev/landlord:dev';
export const postgresImage = 'landlord.dev/postgres:dev';

export function buildPauseImage(out: string, pauseBinary: string, reference: string): ImageArchive {
  return writeImageArchive(out, { reference, entrypoint: ['/pause'], user: '65535' }, (layer) => {
    layer.hostFile('/pause', pauseBinary);
  });
}

/**
 * A busybox image whose default command prints a line and serves HTTP on :8080, answering
 * `test-app <hostname>`. Pods can run any busybox applet instead (sh, nc, httpd, wget, …).
 */
export function buildTestAppImage(out: string, busybox = '/bin/busybox'): ImageArchive {
  if (!existsSync(busybox)) {
    throw new LandlordError('LL_IMAGE_INPUT_MISSING', `${busybox} not found`, { hint: 'run `npm run setup` (installs busybox-static)' });
  }
  const applets = ['sh', 'echo', 'cat', 'ls', 'sleep', 'httpd', 'nc', 'wget', 'hostname', 'env', 'id', 'mkdir'];
  const run = [
    '#!/bin/sh',
    'mkdir -p /tmp/www',
    'echo "test-app $(hostname)" > /tmp/www/index.html',
    'echo "test-app $(hostname) serving HTTP on :${PORT:-8080}"',
    'exec httpd -f -v -p "${PORT:-8080}" -h /tmp/www',
    '',
  ].join('\n');
  return writeImageArchive(out, { reference: testAppImage, cmd: ['/app/run.sh'], user: String(imageUser.uid), env: ['PATH=/bin'] }, (layer) => {
    layer.hostFile('/bin/busybox', busybox);
    for (const applet of applets) layer.symlink(`/bin/${applet}`, 'busybox');
    layer.file('/app/run.sh', run, 0o755);
    addUserFiles(layer);
  });
}

/**
 * landlord's own image: the pinned Node.js binary and the shared libraries it links, the sources,
 * and the production npm dependencies. The entrypoint is the CLI, so `args` pick the component.
 */
export function buildLandlordImage(out: string, projectRoot: string): ImageArchive {
  const nodeBinary = path.join(projectRoot, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(nodeBinary)) {
    throw new LandlordError('LL_IMAGE_INPUT_MISSING', `${nodeBinary} not found`, { hint: 'run `npm run setup` (npm ci installs the pinned Node.js)' });
  }
  const dependencies = productionDependencyDirs(projectRoot);
  return writeImageArchive(
    out,
    { reference: landlordImage, entrypoint: [landlordEntrypoint.node, landlordEntrypoint.cli], user: String(imageUser.uid), workingDir: '/app', env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'] },
    (layer) => {
      layer.hostFile('/usr/local/bin/node', nodeBinary);
      for (const library of sharedLibraries(nodeBinary)) layer.hostFile(library, library);
      layer.hostFile('/app/package.json', path.join(projectRoot, 'package.json'));
      layer.hostTree('/app/src', path.join(projectRoot, 'src'), (p) => p.endsWith('.test.ts'));
      if (existsSync(path.join(projectRoot, 'deploy'))) layer.hostTree('/app/deploy', path.join(projectRoot, 'deploy'));
      for (const dir of dependencies) layer.hostTree(`/app/${dir}`, path.join(projectRoot, dir));
      addUserFiles(layer);
    },
  );
}

/**
 * A PostgreSQL server from this machine's Debian packages (`postgresql`), for demos: the server
 * binaries (`postgres`, `initdb`, `pg_isready` for probes) with their shared libraries and data
 * files, and busybox for the start script. At start
 * the script initializes a cluster in `$PGDATA` (an emptyDir) with trust authentication for
 * `$POSTGRES_USER` (default `demo`) and a database of the same name, then serves on
 * `127.0.0.1:5432` only: clients come through the TLS sidecar in the same pod.
 */
export function buildPostgresImage(out: string, busybox = '/bin/busybox', root = '/usr/lib/postgresql'): ImageArchive {
  const version = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (version === undefined || !existsSync(busybox)) {
    throw new LandlordError('LL_IMAGE_INPUT_MISSING', `no PostgreSQL server in ${root}${existsSync(busybox) ? '' : ` or no ${busybox}`}`, { hint: 'run `npm run setup` (installs postgresql and busybox-static)' });
  }
  const bin = path.join(root, version, 'bin');
  const lib = path.join(root, version, 'lib');
  const share = `/usr/share/postgresql/${version}`;
  const run = [
    '#!/bin/sh',
    'set -e',
    'user="${POSTGRES_USER:-demo}"',
    'if [ ! -s "$PGDATA/PG_VERSION" ]; then',
    '  initdb -D "$PGDATA" -U "$user" --auth=trust --no-locale -E UTF8 >/dev/null',
    '  echo "CREATE DATABASE \\"$user\\";" | postgres --single -D "$PGDATA" -c jit=off postgres >/dev/null',
    'fi',
    'exec postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories=/tmp -c jit=off',
    '',
  ].join('\n');
  const binaries = ['postgres', 'initdb', 'pg_isready'].map((name) => path.join(bin, name));
  const env = [`PATH=${bin}:/bin`, 'PGDATA=/var/lib/postgresql/data', 'TZ=UTC'];
  return writeImageArchive(out, { reference: postgresImage, cmd: ['/app/run.sh'], user: String(imageUser.uid), env }, (layer) => {
    for (const binary of binaries) layer.hostFile(binary, binary);
    for (const library of new Set(binaries.flatMap(sharedLibraries))) layer.hostFile(library, library);
    // plpgsql and the text search dictionaries are loaded by initdb; JIT (llvmjit) is off.
    layer.hostTree(lib, lib, (p) => /\/(bitcode|pgxs|llvmjit[^/]*|sepgsql\.so)$/.test(p));
    layer.hostTree(share, share);
    for (const zone of ['/usr/share/zoneinfo/UTC', '/usr/share/zoneinfo/Etc/UTC']) if (existsSync(zone)) layer.hostFile(zone, zone);
    layer.hostFile('/bin/busybox', busybox);
    for (const applet of ['sh', 'echo', 'nc', 'cat', 'ls', 'mkdir']) layer.symlink(`/bin/${applet}`, 'busybox');
    layer.file('/app/run.sh', run, 0o755);
    layer.directory('/var/lib/postgresql', 0o777);
    addUserFiles(layer);
  });
}

/** Shared libraries (and the loader) a dynamically linked binary needs, as `ldd` reports them. */
export function sharedLibraries(binary: string): string[] {
  const output = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return parseLdd(output);
}

export function parseLdd(output: string): string[] {
  const libraries: string[] = [];
  for (const line of output.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  return libraries;
}

/**
 * node_modules directories of production dependencies, from package-lock.json. The `node`
 * package itself is left out: its binary is already the image's runtime.
 */
export function productionDependencyDirs(projectRoot: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([dir, meta]) => dir.startsWith('node_modules/') && !meta.dev && !meta.link)
    .map(([dir]) => dir)
    .filter((dir) => dir !== 'node_modules/node' && !dir.startsWith('node_modules/node/'))
    // nested packages are copied with their parent
    .filter((dir, _i, all) => !all.some((other) => other !== dir && dir.startsWith(`${other}/`)))
    .sort();
}

function addUserFiles(layer: LayerBuilder): void {
  layer.file('/etc/passwd', `root:x:0:0:root:/root:/bin/sh\n${imageUser.name}:x:${imageUser.uid}:${imageUser.uid}::/tmp:/bin/sh\n`);
  layer.file('/etc/group', `root:x:0:\n${imageUser.name}:x:${imageUser.uid}:\n`);
  layer.directory('/tmp', 0o1777);
}
