// How the `tagllm` process ends. Node writes to a pipe asynchronously, so `process.exit()` right
// after the last write drops whatever a slower reader (`| jq`, `| python`) has not taken yet, and
// still exits 0. The exit waits until stdout and stderr have flushed.

/** The exit status of a process killed by SIGPIPE, which is what a reader closing the pipe early means. */
const EXIT_BROKEN_PIPE = 128 + 13;

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    // the callback of a write runs once it and every write queued before it has been handed to the OS
    else stream.write('', () => resolve());
  });
}

/** A reader that closes the pipe (`| head`) wants no more output: stop quietly, as Unix tools do. */
export function stopOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
      throw error;
    });
  }
}

export async function exitAfterFlush(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
