#!/usr/bin/env node
/**
 * The `landlord` command. Entry point only: it parses arguments and wires the components; each
 * subcommand lives in its own module under src/cli/commands and calls a component's public API.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../shared/errors.ts';
import { registerClusterCommands } from './commands/cluster.ts';
import { registerConnectCommand } from './commands/connect.ts';
import { registerIngressCommand } from './commands/ingress.ts';
import { registerPkiCommands } from './commands/pki.ts';
import { registerPlatformCommands } from './commands/platform.ts';
import { registerRouterCommand } from './commands/router.ts';
import { registerSidecarCommand } from './commands/sidecar.ts';
import { registerWebhookCommands } from './commands/webhook.ts';
import { registerOperatorCommands } from './commands/operator.ts';
import { registerTenantCommands } from './commands/tenant.ts';
import { version } from './version.ts';

export function buildProgram(): Command {
  const program = new Command('landlord')
    .description('A secure multi-tenant platform for Kubernetes.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  registerPlatformCommands(program);
  registerClusterCommands(program);
  registerPkiCommands(program);
  registerRouterCommand(program);
  registerIngressCommand(program);
  registerSidecarCommand(program);
  registerConnectCommand(program);
  registerWebhookCommands(program);
  registerOperatorCommands(program);
  registerTenantCommands(program);
  return program;
}

/** Runs the CLI. Commands may set process.exitCode themselves (e.g. `status`: 3 = not running). */
async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
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
