// The shape every `tagllm` sub-command has. Each command lives in its own file under
// src/cli/commands/ and is listed once in src/cli/main.ts.
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

export interface CliCommand {
  readonly name: string;
  /** One line, shown in `tagllm --help`. */
  readonly summary: string;
  /** The full `tagllm NAME --help` text: usage line and one line per option. */
  readonly help: string;
  readonly options: OptionSpec;
  /** Results go to stdout (the last line is machine-readable where the command promises it); progress goes to stderr. */
  run(args: ParsedArgs, signal: AbortSignal): Promise<void>;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOption(args: ParsedArgs, name: string): string {
  const v = stringOption(args, name);
  if (v === undefined) throw new CliUsageError(`missing --${name}`);
  return v;
}

export function numberOption(args: ParsedArgs, name: string, fallback: number): number {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliUsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export class CliUsageError extends Error {}
