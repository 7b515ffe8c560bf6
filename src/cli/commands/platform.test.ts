import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
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

describe('landlord up: options', () => {
  const main = path.join(import.meta.dirname, '..', 'main.ts');
  const cases: Array<[string, string[], RegExp]> = [
    ['refuses a router port below 1024 before starting anything', ['--tls-port', '443'], /LL_INSTALL_PORT_INVALID: the router's tls port 443 must be an integer from 1024 to 65535/],
    ['refuses two listeners on one port', ['--http-port', '10443'], /LL_INSTALL_PORT_INVALID: the router's tls and http ports are both 10443/],
    ['refuses a port that is not a number', ['--postgres-port', 'x'], /LL_CLI_USAGE: --postgres-port must be an integer from 1 to 65535/],
  ];
  for (const [title, args, expected] of cases) {
    it(title, async () => {
      const failed = await promisify(execFile)(process.execPath, [main, 'up', ...args], { env: { ...process.env, LANDLORD_HOME: '/nonexistent/landlord-test' } }).then(
        () => assert.fail('landlord up succeeded'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, expected);
    });
  }
});
