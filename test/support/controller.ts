/**
 * `landlord controller` as a child process, for tests that kill, restart and stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const main = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

export interface ControllerProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or 128 + signal number style: the signal name) once it exits. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** The last few kilobytes it logged, for failure messages. */
  logTail(): string;
}

export function startController(kubeconfigPath: string, extraArgs: string[] = []): ControllerProcess {
  const child = spawn(process.execPath, [main, 'controller', '--kubeconfig', kubeconfigPath, '--health-port', '-1', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LANDLORD_LOG_LEVEL: 'info' },
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-8192);
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, logTail: () => tail };
}
