// One place that undoes everything a fault run set up (node processes first,
// then the lab's namespaces and links), however the run ends: normally, by an
// exception, or by SIGINT/SIGTERM/SIGHUP. Cleanups run last-registered first,
// each at most once, and must be synchronous and never throw.
type Cleanup = () => void;

const cleanups: { name: string; fn: Cleanup }[] = [];
let installed = false;

function runAll(): void {
  while (cleanups.length > 0) {
    const { name, fn } = cleanups.pop() as { name: string; fn: Cleanup };
    try {
      fn();
    } catch (err) {
      process.stderr.write(`cleanup ${name} failed: ${(err as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\nfaults: ${signal}: cleaning up\n`);
  runAll();
  process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
}

/** Registers `fn` to run at exit or on a signal; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(name: string, fn: Cleanup): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  }
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const at = cleanups.indexOf(entry);
    if (at < 0) return;
    cleanups.splice(at, 1);
    fn();
  };
}
