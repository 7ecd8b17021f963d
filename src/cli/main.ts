#!/usr/bin/env node
// `tagllm`: the command-line face of the runtime. Errors print as one line on stderr
// (exit 1 for bad input, 2 for bad usage), never as a stack trace, unless TAGLLM_DEBUG is set, and with
// the text from files in it escaped and cut (safeText). The process ends only once stdout has flushed.
import { parseArgs } from 'node:util';
import type { CliCommand } from './command';
import { CliUsageError } from './command';
import { TagLlmError } from '../runtime/errors';
import { parseProviderPreference } from '../runtime/session/ortSession';
import { infoCommand } from './commands/info';
import { generateCommand } from './commands/generate';
import { exportHfCommand } from './commands/export-hf';
import { benchCommand } from './commands/bench';
import { scanCommand } from './commands/scan';
import { predictCommand } from './commands/predict';
import { trainCommand } from './commands/train';
import { evalCommand } from './commands/eval';
import { doctorCommand } from './commands/doctor';
import { exportJobCommand } from './commands/export-job';
import { exportPeftCommand } from './commands/export-peft';
import { importPeftCommand } from './commands/import-peft';
import { exitAfterFlush, stopOnBrokenPipe } from './exit';
import { safeLine } from '../runtime/safeText';

const commands: CliCommand[] = [infoCommand, generateCommand, exportHfCommand, benchCommand, scanCommand, predictCommand, trainCommand, evalCommand, doctorCommand, exportJobCommand, exportPeftCommand, importPeftCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'Usage: tagllm <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tagllm <command> --help` for the options of one command.',
    'Every command that takes --model also takes --device auto|cuda|webgpu|cpu (default: $TAGLLM_DEVICE, else auto).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp() + '\n');
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) throw new CliUsageError(`unknown command "${name}"\n\n${topHelp()}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  const options = 'model' in command.options ? { ...command.options, device: { type: 'string' as const } } : command.options;
  const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  // --device is the per-run form of TAGLLM_DEVICE, which every session creation reads.
  const device = parsed.values.device;
  if (typeof device === 'string') process.env.TAGLLM_DEVICE = parseProviderPreference(device, '--device');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  await command.run({ values: parsed.values as Record<string, never>, positionals: parsed.positionals }, controller.signal);
  return 0;
}

stopOnBrokenPipe();
main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (err: unknown) => {
    if (process.env.TAGLLM_DEBUG) console.error(err);
    if (err instanceof CliUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tagllm: ${(err as Error).message}\n`);
      return exitAfterFlush(2);
    }
    const message = err instanceof TagLlmError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
    process.stderr.write(`tagllm: ${safeLine(message)}\n`);
    return exitAfterFlush(1);
  },
);
