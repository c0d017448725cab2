/** One `dsts` subcommand. Each lives in `src/cli/commands/<name>.ts` and default-exports this shape. */
export interface Command {
  /** One line for `dsts --help`. */
  summary: string;
  /** Full usage text for `dsts <name> --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}
