#!/usr/bin/env node
/**
 * The `landlord` command. Entry point only: it parses arguments and wires the components; each
 * subcommand lives in its own module under src/cli/commands and calls a component's public API.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../shared/errors.ts';
import { registerClusterCommands } from './commands/cluster.ts';
import { registerRouterCommand } from './commands/router.ts';
import { version } from './version.ts';

export function buildProgram(): Command {
  const program = new Command('landlord')
    .description('A secure multi-tenant platform for Kubernetes.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  registerClusterCommands(program);
  registerRouterCommand(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    console.error(describeError(error));
    return 1;
  }
}

process.exitCode = await main(process.argv);
