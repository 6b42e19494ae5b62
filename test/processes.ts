// Which processes a test started, read from /proc (Linux) so the checks need
// no ps or pgrep and never see other users' or other test runs' processes on
// a shared machine.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone, or not ours to read
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const close = text.lastIndexOf(')');
  const [state, ppid] = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid) };
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Live (not zombie) children of `parent` whose command name matches `comm`. */
export function liveChildren(parent: number, comm: RegExp): number[] {
  return allPids()
    .map(readStat)
    .filter((s): s is ProcStat => s !== undefined && s.ppid === parent && s.state !== 'Z' && comm.test(s.comm))
    .map((s) => s.pid);
}

/**
 * An environment variable that marks processes started by this test run: every
 * descendant inherits it, also after being re-parented when its launcher exits.
 */
export function processTag(): { env: NodeJS.ProcessEnv; live(): number[] } {
  const name = 'MICROSPLIT_TEST_RUN';
  const value = `${process.pid}-${Date.now()}`;
  const marker = `${name}=${value}`;
  return {
    env: { ...process.env, [name]: value },
    live: () =>
      allPids().filter((pid) => {
        const s = readStat(pid);
        if (!s || s.state === 'Z') return false;
        try {
          return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
        } catch {
          return false;
        }
      }),
  };
}
