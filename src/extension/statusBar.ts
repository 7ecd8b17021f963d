// The status bar item: which model and device the runtime uses, and whether it is working. A click opens the log.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RuntimeState } from './runtimeClient';

export const showLogCommand = 'tagllm.showRuntimeLog';

export class RuntimeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tagllm.runtime', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Tag-LLM runtime';
    this.item.command = showLogCommand;
    this.update({ running: false, busy: false, info: null, lastExit: null }, null);
    this.item.show();
  }

  update(state: RuntimeState, configuredModel: string | null): void {
    const model = state.info?.model ?? (configuredModel ? path.basename(configuredModel) : 'no model');
    const device = state.info?.device ?? '–';
    const icon = state.busy ? '$(sync~spin)' : state.running ? '$(beaker)' : '$(circle-slash)';
    this.item.text = `${icon} Tag-LLM: ${model} · ${device}`;
    const tags = state.info?.tags.length ? state.info.tags.join(', ') : 'none';
    this.item.tooltip = [
      `Model: ${model}`,
      `Device: ${device}`,
      `Function tags: ${tags}`,
      `Runtime: ${state.running ? (state.busy ? 'busy' : 'idle') : 'not running'}${state.lastExit ? ` (last exit: ${state.lastExit})` : ''}`,
      'Click to show the runtime log',
    ].join('\n');
  }

  dispose(): void {
    this.item.dispose();
  }
}
