/**
 * Crash points for tests: a process started with HFMAIL_FAILPOINT=<name> kills itself (SIGKILL, no clean-up)
 * when it reaches the point of that name, so a crash test hits an exact moment instead of a random one.
 * Without the variable this is a string comparison.
 */
export function failpoint(name: string): void {
  if (process.env.HFMAIL_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
