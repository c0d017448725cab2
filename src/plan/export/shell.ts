/** Shell quoting for the scripts `dsts export` writes. */

/** `s` as one POSIX shell word (single-quoted unless it is plainly safe). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command as a script line broken after each option for reading. */
export function scriptLine(args: readonly string[]): string {
  const out: string[] = [args[0]!];
  for (const a of args.slice(1)) {
    if (a.startsWith('--')) out.push(` \\\n  ${a}`);
    else out.push(` ${a}`);
  }
  return out.join('');
}
