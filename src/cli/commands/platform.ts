/**
 * `landlord up | down | status | image build`: landlord on the embedded local cluster.
 *
 * `up` starts the local cluster with a node, builds landlord's image from this checkout, loads it
 * into the node and installs landlord from it (src/install), so the platform runs as pods from
 * exactly this code; `--demo` adds a demo tenant with an HTTP app and a PostgreSQL database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { attachCluster, locateBinaries, nodeNetwork, buildLandlordImage, buildPostgresImage, buildTestAppImage, landlordImage, postgresImage, testAppImage, type DevCluster } from '../../devcluster/index.ts';
import {
  defaultHostPorts, demoDatabaseUser, demoHosts, demoObjects, demoTenant, installDemo, installPlatform, platformManifests, platformStatus,
  readRootCertificate, rootCaFileName, type HostAddress, type RouterHostPorts,
} from '../../install/index.ts';
import { LandlordError } from '../../shared/errors.ts';
import { localClusterDir, upLocalCluster } from './cluster.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/** What `up` chose, kept beside the cluster so `status` probes the same ports. */
const platformFile = 'platform.json';

interface UpOptions {
  demo?: boolean;
  tlsPort: string;
  httpPort: string;
  postgresPort: string;
  metricsPort: string;
  timeout: string;
}

export function registerPlatformCommands(program: Command): void {
  program
    .command('up')
    .description('Start landlord on a local single-node Kubernetes (set-up runs first if anything is missing).')
    .option('--demo', `also create tenant "${demoTenant}" with an HTTP app and a PostgreSQL database behind Routes`)
    .option('--tls-port <port>', 'the edge router\'s TLS port on 127.0.0.1', String(defaultHostPorts.tls))
    .option('--http-port <port>', 'the edge router\'s plain HTTP port on 127.0.0.1', String(defaultHostPorts.http))
    .option('--postgres-port <port>', 'the edge router\'s PostgreSQL port on 127.0.0.1', String(defaultHostPorts.postgres))
    .option('--metrics-port <port>', 'the edge router\'s metrics and health port on 127.0.0.1', String(defaultHostPorts.metrics))
    .option('--timeout <seconds>', 'how long to wait for each stage to be ready', '300')
    .addHelpText('after', `\nState lives in ${localClusterDir()} (set LANDLORD_HOME to move it). Re-running is safe and fast.`)
    .action(async (options: UpOptions) => {
      const began = Date.now();
      const ports: RouterHostPorts = {
        tls: positiveInteger('tls-port', options.tlsPort, 65535), http: positiveInteger('http-port', options.httpPort, 65535),
        postgres: positiveInteger('postgres-port', options.postgresPort, 65535), metrics: positiveInteger('metrics-port', options.metricsPort, 65535),
      };
      const timeoutMs = positiveInteger('timeout', options.timeout, 86_400) * 1000;
      const manifestsFor = (imageId: string) => platformManifests({ image: landlordImage, imagePullPolicy: 'Never', router: { kind: 'host-loopback', ports }, replicas: 1, imageId, routerSourceCidr: `${nodeNetwork.nodeIP}/32` });
      manifestsFor('check'); // refuses bad ports before anything starts
      const { cluster } = await upLocalCluster({ node: true });
      const work = mkdtempSync(path.join(tmpdir(), 'landlord-up-'));
      try {
        step(`building ${landlordImage} from ${projectRoot}`);
        const image = buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot);
        await cluster.importImage(image.file);
        const kubeConfig = cluster.kubeConfig();
        writeFileSync(path.join(cluster.dir, platformFile), `${JSON.stringify({ ports }, null, 2)}\n`);
        await installPlatform({ kubeConfig, manifests: manifestsFor(image.id), onProgress: step, timeoutMs, routerAddresses: routerAddresses(ports) });
        const rootCa = path.join(cluster.dir, rootCaFileName);
        writeFileSync(rootCa, await readRootCertificate(kubeConfig));
        if (options.demo) {
          step(`building ${testAppImage} and ${postgresImage}`);
          await cluster.importImage(buildTestAppImage(path.join(work, 'test-app.tar')).file);
          await cluster.importImage(buildPostgresImage(path.join(work, 'postgres.tar')).file);
          await installDemo({ kubeConfig, demo: demoObjects({ app: testAppImage, database: postgresImage }), onProgress: step, timeoutMs });
        }
        step(`landlord is up (${((Date.now() - began) / 1000).toFixed(1)} s)`);
        console.log(nextSteps(cluster, ports, rootCa, options.demo === true));
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });

  program
    .command('down')
    .description('Stop landlord and the local cluster and remove everything they created.')
    .action(async () => {
      await program.parseAsync(['cluster', 'down'], { from: 'user' });
    });

  program
    .command('status')
    .description('Summarize the health of the local platform: cluster daemons, landlord\'s components, router ports, tenants.')
    .action(async () => {
      await program.parseAsync(['cluster', 'status'], { from: 'user' });
      const dir = localClusterDir();
      if (process.exitCode !== undefined && process.exitCode !== 0) return;
      const cluster = attachCluster(dir);
      const saved = path.join(dir, platformFile);
      if (!existsSync(saved)) {
        console.log('\nlandlord: not installed (run `landlord up`)');
        process.exitCode = 3;
        return;
      }
      const { ports } = JSON.parse(readFileSync(saved, 'utf8')) as { ports: RouterHostPorts };
      const status = await platformStatus(cluster.kubeConfig(), routerAddresses(ports));
      console.log('\nlandlord:');
      let healthy = true;
      for (const component of status.components) {
        const done = component.progress?.done === true;
        healthy &&= done;
        console.log(`  ${done ? 'ready   ' : 'NOT READY'}  ${component.name} ${component.progress ? `${component.progress.ready}/${component.progress.desired}` : '(not installed)'}`);
      }
      for (const port of status.routerPorts) {
        healthy &&= port.listening;
        console.log(`  ${port.listening ? 'listening' : 'CLOSED   '}  router ${port.host}:${port.port}`);
      }
      console.log(`  tenants: ${status.tenants}`);
      if (!healthy) {
        console.log('\n  see why: kubectl -n landlord-system get pods; kubectl -n landlord-system logs deploy/<component>');
        process.exitCode = 1;
      }
    });

  program
    .command('image')
    .description('Build landlord\'s container image.')
    .command('build')
    .description('Write landlord\'s image, built from this checkout without a container engine, as a docker-archive tarball.')
    .option('--out <file>', 'where to write it', 'landlord.tar')
    .addHelpText('after', `
Load or push it with the tool of your cluster, e.g.:
  ctr -n k8s.io images import landlord.tar            # containerd on a node
  docker load -i landlord.tar                          # Docker
  skopeo copy docker-archive:landlord.tar docker://REGISTRY/landlord:TAG`)
    .action((options: { out: string }) => {
      const image = buildLandlordImage(path.resolve(options.out), projectRoot);
      console.log(`${image.reference} (${image.id}) written to ${image.file}`);
    });
}

function routerAddresses(ports: RouterHostPorts): HostAddress[] {
  return [ports.tls, ports.http, ports.postgres].map((port) => ({ host: '127.0.0.1', port }));
}

function positiveInteger(name: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > max) throw new LandlordError('LL_CLI_USAGE', `--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function nextSteps(cluster: DevCluster, ports: RouterHostPorts, rootCa: string, demo: boolean): string {
  const lines = [
    '',
    `landlord is running on a local Kubernetes (${cluster.server}).`,
    '',
    `  export KUBECONFIG=${cluster.kubeconfigPath}`,
    // The set-up builds kubectl 1.20.2 with the cluster; the machine need not have one of its own.
    `  export PATH=${path.dirname(locateBinaries().kubernetes.kubectl)}:$PATH   # kubectl, built by the set-up with the cluster`,
    '  kubectl -n landlord-system get pods         # controller, webhook and edge router',
    '',
    `The edge router listens on 127.0.0.1: TLS ${ports.tls}, HTTP ${ports.http}, PostgreSQL ${ports.postgres}.`,
    `Clients verify landlord's certificates with the platform root CA: ${rootCa}`,
  ];
  if (demo) {
    lines.push(
      '',
      `Demo tenant "${demoTenant}" (*.${demoHosts.web.split('.').slice(1).join('.')}): an HTTP app and a PostgreSQL database behind Routes.`,
      `  curl --cacert ${rootCa} --resolve ${demoHosts.web}:${ports.tls}:127.0.0.1 https://${demoHosts.web}:${ports.tls}/`,
      `  psql "host=${demoHosts.db} hostaddr=127.0.0.1 port=${ports.postgres} sslmode=verify-full sslrootcert=${rootCa} user=${demoDatabaseUser}" -c 'select version()'`,
      `  kubectl -n ${demoTenant} get routes,pods`,
    );
  }
  lines.push(
    '',
    'Create a tenant of your own, and a kubeconfig for its owner:',
    '  landlord tenant create acme --domain "*.acme.localhost" --owner-user alice --wait',
    '  export KUBECONFIG=$(landlord cluster kubeconfig --user alice)',
    'then, in namespace acme, a Deployment and Service "web" (port 80) and a Route for it:',
    '  kubectl -n acme apply -f - <<EOF',
    '  apiVersion: landlord.dev/v1alpha1',
    '  kind: Route',
    '  metadata: { name: web }',
    '  spec: { hostname: web.acme.localhost, protocol: http, backend: { service: web, port: 80 } }',
    '  EOF',
    `  curl --cacert ${rootCa} --resolve web.acme.localhost:${ports.tls}:127.0.0.1 https://web.acme.localhost:${ports.tls}/`,
    '',
    'Logs: kubectl -n landlord-system logs deploy/landlord-router (or landlord-controller, landlord-webhook);',
    `      the cluster's daemons: ${cluster.logsDir}`,
    '  landlord status                              # health of every daemon and component',
    '  landlord down                                # stop and remove everything',
  );
  return lines.join('\n');
}

function step(message: string): void {
  console.error(`• ${message}`);
}
