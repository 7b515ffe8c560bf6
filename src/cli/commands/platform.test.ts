import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { defaultHostPorts, genericPlatformOptions, platformManifests, type PlatformOptions } from '../../install/index.ts';
import { registerOperatorCommands } from './operator.ts';
import { registerRouterCommand } from './router.ts';
import { registerWebhookCommands } from './webhook.ts';

const local: PlatformOptions = { image: 'landlord.dev/landlord:dev', imagePullPolicy: 'Never', router: { kind: 'host-loopback', ports: defaultHostPorts }, replicas: 1 };

describe('the installed components\u2019 command lines', () => {
  const program = new Command('landlord');
  registerOperatorCommands(program);
  registerRouterCommand(program);
  registerWebhookCommands(program);

  for (const [rendering, options] of [['generic', genericPlatformOptions], ['local', local]] as const) {
    it(`passes only flags each command declares (${rendering} rendering)`, () => {
      const deployments = platformManifests(options).components.filter((o) => o.kind === 'Deployment');
      assert.equal(deployments.length, 3);
      for (const deployment of deployments) {
        const [name, ...args] = (deployment.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
        const command = program.commands.find((c) => c.name() === name);
        assert.ok(command, `landlord ${name} exists`);
        const declared = new Set(command.options.map((option) => option.long));
        for (const flag of args.filter((arg) => arg.startsWith('--'))) assert.ok(declared.has(flag), `landlord ${name} declares ${flag}`);
      }
    });
  }
});
