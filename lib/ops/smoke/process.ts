import { spawn } from 'node:child_process';

/** Runs a command with the terminal's stdio and resolves its exit code. Tests pass a fake. */
export type ProcessRunner = (command: string, args: readonly string[], options?: { signal?: AbortSignal }) => Promise<number>;

/**
 * The real runner: the child shares the terminal, so `cdk` shows its own progress. Aborting `signal` sends the child
 * SIGINT, as a Ctrl-C in the terminal would.
 */
export const spawnProcess: ProcessRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      signal: options.signal,
      killSignal: 'SIGINT',
      // On Windows `npx` is npx.cmd, which Node starts only through a shell
      // (https://nodejs.org/api/child_process.html#spawning-bat-and-cmd-files-on-windows). Our arguments have no spaces.
      shell: process.platform === 'win32',
    });
    child.on('error', (error) => {
      if (error.name === 'AbortError') return; // 'exit' follows with the signal
      reject(error);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
