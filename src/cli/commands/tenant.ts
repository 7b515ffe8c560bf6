/**
 * `landlord tenant create | list | get | delete`: conveniences over the Tenant resource, for a
 * platform admin (credentials from --kubeconfig or KUBECONFIG). The operator does the work;
 * these commands only write and read Tenant objects.
 */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { tenantCrd } from '../../api/schema.ts';
import type { Tenant } from '../../api/tenant.ts';
import { validate } from '../../api/validate.ts';
import { KubeClient, isApiStatus, resources, type KubeObject } from '../../operator/index.ts';
import { LandlordError } from '../../shared/errors.ts';
import { loadCredentials } from '../../shared/kubeconfig.ts';

type TenantObject = Tenant & KubeObject;

interface CreateOptions {
  kubeconfig?: string;
  domain: string[];
  ownerUser?: string[];
  ownerGroup?: string[];
  namespace: string[];
  internetEgress?: boolean;
  wait?: boolean;
  timeout: string;
}

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('Create, list, inspect and delete tenants (Tenant resources).');

  tenant.command('create <name>')
    .description('Create a tenant; the operator creates its namespaces, RBAC, quotas, network policies and CA.')
    .requiredOption('--domain <domain>', 'a zone the tenant owns, "*.acme.example" or "acme.example"; repeat for more', collect)
    .option('--owner-user <user>', 'a user who administers the tenant; repeat for more', collect)
    .option('--owner-group <group>', 'a group whose members administer the tenant; repeat for more', collect)
    .addOption(new Option('--namespace <name>', 'a namespace to create, <name> or <name>-<suffix>; repeat for more').argParser(collect).default([], '<name>'))
    .option('--internet-egress', 'let the tenant\'s pods reach the internet (never private ranges or cloud metadata)')
    .option('--wait', 'wait until the tenant is Ready')
    .option('--timeout <seconds>', 'how long --wait waits', '120')
    .option('--kubeconfig <file>', 'admin credentials (default: KUBECONFIG or ~/.kube/config)')
    .addHelpText('after', '\nExample:\n  landlord tenant create acme --domain "*.acme.example" --owner-user alice --namespace acme --namespace acme-db --wait')
    .action(async (name: string, options: CreateOptions) => {
      const object = tenantObject(name, options);
      const client = clientFor(options.kubeconfig);
      try {
        await client.create(resources.tenants, object).catch((error: unknown) => {
          if (isApiStatus(error, 409)) throw new LandlordError('LL_OPERATOR_TENANT_EXISTS', `tenant ${name} already exists`, { hint: `inspect it with: landlord tenant get ${name}` });
          throw error;
        });
        console.log(`tenant ${name} created`);
        if (options.wait) console.log(formatConditions(await untilReady(client, name, Number(options.timeout) * 1000)));
      } finally {
        client.close();
      }
    });

  tenant.command('list')
    .description('List tenants with their phase, readiness, domains and namespaces.')
    .option('--kubeconfig <file>', 'admin credentials (default: KUBECONFIG or ~/.kube/config)')
    .action(async (options: { kubeconfig?: string }) => {
      const client = clientFor(options.kubeconfig);
      try {
        const { items } = await client.list<TenantObject>(resources.tenants);
        const rows = items.map((t) => [
          t.metadata.name, t.status?.phase ?? 'Pending', readyOf(t), t.spec.domains.join(','), (t.status?.namespaces ?? []).join(','),
        ]);
        console.log(table([['NAME', 'PHASE', 'READY', 'DOMAINS', 'NAMESPACES'], ...rows]));
      } finally {
        client.close();
      }
    });

  tenant.command('get <name>')
    .description('Show a tenant: spec, status and conditions (YAML, or JSON with -o json).')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--kubeconfig <file>', 'admin credentials (default: KUBECONFIG or ~/.kube/config)')
    .action(async (name: string, options: { kubeconfig?: string; output: string }) => {
      const client = clientFor(options.kubeconfig);
      try {
        const found = await client.get<TenantObject>(resources.tenants, name);
        if (!found) throw new LandlordError('LL_OPERATOR_TENANT_NOT_FOUND', `tenant ${name} does not exist`, { hint: 'list tenants with: landlord tenant list' });
        const { managedFields: _managedFields, ...metadata } = found.metadata;
        const shown = { ...found, metadata };
        console.log(options.output === 'json' ? JSON.stringify(shown, null, 2) : stringify(shown, { lineWidth: 0 }).trimEnd());
      } finally {
        client.close();
      }
    });

  tenant.command('delete <name>')
    .description('Delete a tenant and, through the operator, everything landlord created for it (namespaces included).')
    .option('--wait', 'wait until the tenant and its namespaces are gone')
    .option('--timeout <seconds>', 'how long --wait waits', '180')
    .option('--kubeconfig <file>', 'admin credentials (default: KUBECONFIG or ~/.kube/config)')
    .action(async (name: string, options: { kubeconfig?: string; wait?: boolean; timeout: string }) => {
      const client = clientFor(options.kubeconfig);
      try {
        if (!(await client.get(resources.tenants, name))) {
          throw new LandlordError('LL_OPERATOR_TENANT_NOT_FOUND', `tenant ${name} does not exist`, { hint: 'list tenants with: landlord tenant list' });
        }
        await client.delete(resources.tenants, name);
        console.log(`tenant ${name} deleting`);
        if (options.wait) {
          await until(`tenant ${name} to be gone`, Number(options.timeout) * 1000, async () => (await client.get(resources.tenants, name)) === undefined);
          console.log(`tenant ${name} deleted`);
        }
      } finally {
        client.close();
      }
    });
}

/** The Tenant the flags describe; refused here, with every problem listed, before the API server sees it. */
function tenantObject(name: string, options: CreateOptions): TenantObject {
  const spec: Tenant['spec'] = {
    owners: {
      ...(options.ownerUser ? { users: options.ownerUser } : {}),
      ...(options.ownerGroup ? { groups: options.ownerGroup } : {}),
    },
    domains: options.domain,
    ...(options.namespace.length ? { namespaces: options.namespace } : {}),
    ...(options.internetEgress ? { network: { internetEgress: true } } : {}),
  };
  const object: TenantObject = { apiVersion: 'landlord.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec };
  const schema = tenantCrd.spec.versions[0]!.schema.openAPIV3Schema;
  const problems = [
    ...validate(schema.properties.metadata!, { name }, 'metadata'),
    ...validate(schema.properties.spec!, spec, 'spec'),
  ];
  if (problems.length > 0) {
    throw new LandlordError('LL_OPERATOR_TENANT_INVALID', `tenant ${name} is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, {
      hint: 'tenant names are DNS labels of at most 40 characters; domains look like "*.acme.example"',
    });
  }
  return object;
}

function clientFor(file: string | undefined): KubeClient {
  return new KubeClient(loadCredentials(file, { inCluster: false }));
}

function readyOf(tenant: TenantObject): string {
  const ready = tenant.status?.conditions?.find((c) => c.type === 'Ready');
  return ready ? `${ready.status}${ready.status === 'True' ? '' : ` (${ready.reason})`}` : 'Unknown';
}

function formatConditions(tenant: TenantObject): string {
  return (tenant.status?.conditions ?? []).map((c) => `  ${c.type}: ${c.status} ${c.reason} — ${c.message}`).join('\n');
}

async function untilReady(client: KubeClient, name: string, timeoutMs: number): Promise<TenantObject> {
  let last: TenantObject | undefined;
  await until(`tenant ${name} to be Ready`, timeoutMs, async () => {
    last = await client.get<TenantObject>(resources.tenants, name);
    const ready = last?.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && ready.observedGeneration === last?.metadata.generation;
  }, () => (last ? `\n${formatConditions(last)}` : ''));
  return last!;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new LandlordError('LL_OPERATOR_WAIT_TIMEOUT', `timed out waiting for ${what}${detail()}`, {
    hint: 'is `landlord controller` running against this cluster? Its conditions above say what it is waiting for',
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** A repeatable option's values; `previous` is undefined for the first (such options have no default). */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
