// A sweep's worker process: takes runs from its parent over IPC, one at a
// time, and sends back each outcome or error. Runs live in their own
// process so several use the cores at once, a virtual-time run's fake
// clock stays out of the parent, and a run that hangs can be killed.
import { executeRun } from './run-one.ts';
import type { WorkerReply, WorkerRequest } from './runner.ts';

// The parent holds the other end of the IPC channel: when it goes, so do we.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: WorkerRequest) => {
  void executeRun(m.run, m.baseDir).then(
    (outcome) => process.send!({ type: 'done', id: m.run.id, outcome } satisfies WorkerReply),
    (e: unknown) => process.send!({ type: 'failed', id: m.run.id, message: (e as Error).message ?? String(e) } satisfies WorkerReply),
  );
});
process.send!({ type: 'ready' } satisfies WorkerReply);
