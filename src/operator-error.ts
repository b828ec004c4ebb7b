// A failure the operator fixes outside newsloom (a port in use, a folder it may not write, a full disk): the
// command line prints its message, never a stack trace, and exits with EXIT.cannotStart.
export class OperatorError extends Error {
  override name = 'OperatorError';
}

/** The exit codes of every command (README, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem: an invalid config, a source that failed, an unhealthy daemon. */
  problem: 1,
  /** The command line itself is wrong: an unknown command or option, a missing argument. */
  usage: 2,
  /** newsloom cannot start or open what it needs: the port, the data folder, the disk. */
  cannotStart: 3,
} as const;
