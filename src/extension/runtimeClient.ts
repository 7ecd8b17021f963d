// The extension host's handle on the runtime process: spawns it on first need, speaks JSON-RPC over the
// IPC channel, and restarts it with backoff after it dies. It imports no `vscode`, so tests drive it directly.
import { fork, type ChildProcess } from 'node:child_process';
import {
  type CancellationToken,
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  type MessageConnection,
  type NotificationType,
  type RequestType,
} from 'vscode-jsonrpc/node';
import { Configure, InfoNotification, type RuntimeConfig, type RuntimeInfo } from './protocol';

export interface RuntimeState {
  running: boolean;
  busy: boolean;
  info: RuntimeInfo | null;
  /** Why the last process ended, when it did not end by our own dispose(). */
  lastExit: string | null;
}

export interface RuntimeClientOptions {
  serverPath: string;
  config: () => RuntimeConfig;
  log: (line: string) => void;
  onState?: (state: RuntimeState) => void;
  env?: NodeJS.ProcessEnv;
}

/** Raised to callers whose request was in flight when the runtime process died. */
export class RuntimeExitedError extends Error {
  constructor(reason: string) {
    super(`Tag-LLM runtime stopped: ${reason}`);
    this.name = 'RuntimeExitedError';
  }
}

const firstRestartDelayMs = 250;
const maxRestartDelayMs = 10_000;
/** A process that lived this long counts as healthy: the next crash restarts without delay. */
const healthyLifetimeMs = 30_000;

interface Live {
  child: ChildProcess;
  connection: MessageConnection;
  ready: Promise<RuntimeInfo>;
  startedAt: number;
}

export class RuntimeClient {
  private live: Live | null = null;
  private inFlight = 0;
  private info: RuntimeInfo | null = null;
  private lastExit: string | null = null;
  private crashesInARow = 0;
  private disposed = false;
  /** Listeners per notification method; jsonrpc keeps one handler per method, which fans out to these. */
  private readonly listeners = new Map<string, Set<(params: unknown) => void>>();

  constructor(private readonly options: RuntimeClientOptions) {}

  get pid(): number | undefined {
    return this.live?.child.pid;
  }

  get state(): RuntimeState {
    return { running: this.live !== null, busy: this.inFlight > 0, info: this.info, lastExit: this.lastExit };
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void } {
    let set = this.listeners.get(type.method);
    if (!set) {
      set = new Set();
      this.listeners.set(type.method, set);
      if (this.live) this.dispatch(this.live.connection, type.method);
    }
    const listener = handler as (params: unknown) => void;
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }

  /** Sends a request, starting (or restarting) the process first when none is alive. */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    this.inFlight++;
    this.emitState();
    try {
      const live = await this.ensureLive();
      await live.ready;
      return await Promise.race([live.connection.sendRequest(type, params as never, token), this.exitOf(live.child)]);
    } finally {
      this.inFlight--;
      this.emitState();
    }
  }

  /** Re-sends the configuration to a running process; a stopped one picks it up when it starts. */
  async reconfigure(): Promise<RuntimeInfo | null> {
    if (!this.live) return null;
    this.info = await this.request(Configure, this.options.config());
    this.emitState();
    return this.info;
  }

  dispose(): void {
    this.disposed = true;
    const live = this.live;
    this.live = null;
    if (live) {
      live.connection.dispose();
      live.child.kill();
    }
  }

  private async ensureLive(): Promise<Live> {
    if (this.disposed) throw new RuntimeExitedError('the extension is shutting down');
    if (this.live) return this.live;
    const delay = this.crashesInARow === 0 ? 0 : Math.min(maxRestartDelayMs, firstRestartDelayMs * 2 ** (this.crashesInARow - 1));
    if (delay > 0) {
      this.options.log(`restarting the runtime in ${delay} ms (crash ${this.crashesInARow} in a row)`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.live) return this.live;
    }
    this.live = this.spawn();
    return this.live;
  }

  private spawn(): Live {
    const child = fork(this.options.serverPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...this.options.env },
      execArgv: [],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) this.options.log(line);
      });
    }
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    for (const method of this.listeners.keys()) this.dispatch(connection, method);
    connection.onNotification(InfoNotification, (info) => {
      this.info = info;
      this.emitState();
    });
    connection.onError(([error]) => this.options.log(`runtime connection error: ${error.message}`));
    connection.listen();
    child.on('error', (error) => this.options.log(`runtime process error: ${error.message}`));
    this.options.log(`runtime process ${child.pid} started`);
    const ready = Promise.race([connection.sendRequest(Configure, this.options.config()), this.exitOf(child)]).then((info) => {
      this.info = info;
      this.emitState();
      return info;
    });
    // A failed configure is reported by whichever request awaited it; keep it from being an unhandled rejection.
    ready.catch(() => undefined);
    const live: Live = { child, connection, startedAt: Date.now(), ready };
    child.on('exit', (code, signal) => this.onExit(live, code, signal));
    this.emitState();
    return live;
  }

  private readonly exits = new WeakMap<ChildProcess, Promise<never>>();

  /** A promise that rejects when the process ends, so no caller waits forever on a dead connection. */
  private exitOf(child: ChildProcess): Promise<never> {
    let exit = this.exits.get(child);
    if (!exit) {
      exit = new Promise<never>((_, reject) => {
        child.once('exit', (code, signal) => reject(new RuntimeExitedError(signal ? `killed by ${signal}` : `exit code ${code}`)));
      });
      exit.catch(() => undefined);
      this.exits.set(child, exit);
    }
    return exit;
  }

  private onExit(live: Live, code: number | null, signal: NodeJS.Signals | null): void {
    live.connection.dispose();
    if (this.live !== live) return;
    this.live = null;
    if (this.disposed) return;
    this.lastExit = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.crashesInARow = Date.now() - live.startedAt > healthyLifetimeMs ? 1 : this.crashesInARow + 1;
    this.options.log(`runtime process ${live.child.pid} ended: ${this.lastExit}`);
    this.emitState();
  }

  private dispatch(connection: MessageConnection, method: string): void {
    connection.onNotification(method, (params: unknown) => {
      for (const listener of this.listeners.get(method) ?? []) listener(params);
    });
  }

  private emitState(): void {
    this.options.onState?.(this.state);
  }
}
