/**
 * `dsts` entry point: finds the subcommand module by name and runs it. Commands are thin: they parse
 * arguments, call the library, and print. User errors print one line and exit 1, never a stack.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.ts';
import { UserError } from './errors.ts';
import { UserFacingError } from '../io/errors.ts';

const commandsDir = new URL('./commands/', import.meta.url);

function commandNames(): string[] {
  return readdirSync(fileURLToPath(commandsDir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  const mod = (await import(new URL(`${name}.ts`, commandsDir).href)) as { default: Command };
  return mod.default;
}

async function help(): Promise<void> {
  const lines = ['usage: dsts <command> [options]', '', 'commands:'];
  for (const name of commandNames()) lines.push(`  ${name.padEnd(12)} ${(await load(name)).summary}`);
  lines.push('', "dsts <command> --help shows a command's options.");
  console.log(lines.join('\n'));
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await help();
    return name === undefined ? 1 : 0;
  }
  if (!commandNames().includes(name)) throw new UserError(`unknown command '${name}' (see 'dsts --help')`);
  const cmd = await load(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  return cmd.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UserError || e instanceof UserFacingError) {
    console.error(`dsts: ${e.message}`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
