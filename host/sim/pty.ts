// A pair of connected pseudo-terminals from socat: what is written to one
// end is read from the other, as over a null-modem cable. A simulated device
// opens one end, the gateway the other. Both ends are raw (no echo, no line
// editing). Bytes written before the other end is opened may be lost; the
// gateway's HELLO handshake retries for that reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Why PTY pairs cannot be made here (socat is not on PATH), or null. */
export function missingSocat(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'socat');
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return null;
    } catch {
      // not in this directory
    }
  }
  return 'socat is not installed (Debian package socat)';
}

export interface PtyPair {
  /** The end the simulated device opens. */
  devicePath: string;
  /** The end the gateway opens. */
  gatewayPath: string;
  /** socat's process; killed by close(). */
  process: ChildProcess;
  close(): void;
}

/** Starts socat and resolves once it has printed both PTY paths. */
export function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  // detached: socat leads its own process group, so a group kill reaches it.
  const proc = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let err = '';
    const paths: string[] = [];
    const fail = (why: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`socat PTY pair: ${why}`));
    };
    const timer = setTimeout(() => fail(`no PTY paths within ${timeoutMs} ms; stderr: ${err.trim()}`), timeoutMs);
    proc.once('error', (e) => fail(`cannot start socat (is it installed?): ${e.message}`));
    proc.once('exit', (code) => paths.length < 2 && fail(`exited with code ${code}; stderr: ${err.trim()}`));
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => {
      err += s;
      for (const m of s.matchAll(/PTY is (\S+)/g)) paths.push(m[1]);
      if (paths.length === 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        proc.stderr!.removeAllListeners('data');
        proc.stderr!.resume();
        resolve({
          devicePath: paths[0],
          gatewayPath: paths[1],
          process: proc,
          close: () => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          },
        });
      }
    });
  });
}
