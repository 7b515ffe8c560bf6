/**
 * A benchmark's servers (nginx, HAProxy, a local cluster's daemons, which run in process groups
 * of their own) outlive a Node process that is killed. `stopOnInterrupt` makes the benchmark's
 * cleanup run on Ctrl-C or SIGTERM too, then exits with 130, so an interrupted run leaves nothing
 * running. It returns the cleanup for the benchmark's own `finally`: whoever calls first runs it,
 * and every caller waits for that one run.
 */
export function stopOnInterrupt(cleanup: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const stop = (): Promise<void> => (running ??= cleanup());
  const interrupted = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: stopping the benchmark's processes\n`);
    stop()
      .catch((error: unknown) => process.stderr.write(`cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return stop;
}
