#!/usr/bin/env node
/**
 * The `landlord` command. Entry point only: it parses arguments and wires the components; each
 * subcommand lives in its own module under src/cli/commands and calls a component's public API.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../shared/errors.ts';
import { version } from './version.ts';

type Register = (program: Command) => void;

/**
 * Every command module, in help order, with the top-level commands it registers. Only the module
 * of the command being run is imported: a long-running `landlord controller` must not carry the
 * code of the other components (@kubernetes/client-node alone is about 50 MiB of RSS).
 */
const commandModules: ReadonlyArray<{ commands: readonly string[]; uses?: readonly string[]; load: () => Promise<Register> }> = [
  // `down` and `status` run `cluster down` / `cluster status` through the program.
  { commands: ['up', 'down', 'status'], uses: ['cluster'], load: async () => (await import('./commands/platform.ts')).registerPlatformCommands },
  { commands: ['cluster'], load: async () => (await import('./commands/cluster.ts')).registerClusterCommands },
  { commands: ['pki'], load: async () => (await import('./commands/pki.ts')).registerPkiCommands },
  { commands: ['router'], load: async () => (await import('./commands/router.ts')).registerRouterCommand },
  { commands: ['ingress'], load: async () => (await import('./commands/ingress.ts')).registerIngressCommand },
  { commands: ['sidecar'], load: async () => (await import('./commands/sidecar.ts')).registerSidecarCommand },
  { commands: ['connect'], load: async () => (await import('./commands/connect.ts')).registerConnectCommand },
  { commands: ['webhook'], load: async () => (await import('./commands/webhook.ts')).registerWebhookCommands },
  { commands: ['controller'], load: async () => (await import('./commands/operator.ts')).registerOperatorCommands },
  { commands: ['tenant'], load: async () => (await import('./commands/tenant.ts')).registerTenantCommands },
];

/**
 * The program with the command `argv` runs registered, or with every command when `argv` names
 * none of them (`--help`, `help`, a typo), so that help and errors list them all.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('landlord')
    .description('A secure multi-tenant platform for Kubernetes.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  const named = argv[2];
  const only = commandModules.find((m) => named !== undefined && m.commands.includes(named));
  const selected = only ? commandModules.filter((m) => m === only || m.commands.some((c) => only.uses?.includes(c))) : commandModules;
  for (const module of selected) (await module.load())(program);
  return program;
}

/** Runs the CLI. Commands may set process.exitCode themselves (e.g. `status`: 3 = not running). */
async function main(argv: string[]): Promise<void> {
  const program = (await buildProgram(argv)).exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    console.error(describeError(error));
    process.exitCode = 1;
  }
}

await main(process.argv);
