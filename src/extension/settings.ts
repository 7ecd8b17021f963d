// Reads the `tagllm.*` settings and turns them into the runtime's configuration, honouring Workspace Trust:
// in Restricted Mode a model or bundle named by the workspace (its settings or its `.tagllm/` folder) is not used.
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RuntimeConfig } from './protocol';

export const section = 'tagllm';

type Device = RuntimeConfig['device'];

/** A setting's value, ignoring workspace and folder values when the workspace is not trusted. */
function trustedValue<T>(key: string, fallback: T): T {
  const config = vscode.workspace.getConfiguration(section);
  if (vscode.workspace.isTrusted) return config.get<T>(key, fallback);
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}

export function workspaceBundleDir(): string | null {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder && folder.uri.scheme === 'file' ? path.join(folder.uri.fsPath, '.tagllm') : null;
}

/** Bundle folders under the workspace's `.tagllm/`: each holds a tagbundle.json. */
function workspaceBundles(): string[] {
  const dir = workspaceBundleDir();
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'tagbundle.json')))
    .map((e) => path.join(dir, e.name))
    .sort();
}

export function runtimeConfig(): RuntimeConfig {
  const model = trustedValue<string>('model', '') || process.env.TAGLLM_MODEL || '';
  const configured = trustedValue<string[]>('bundles', []);
  const bundles = vscode.workspace.isTrusted ? [...configured, ...workspaceBundles()] : configured;
  return {
    modelPath: model ? resolveUserPath(model) : null,
    bundlePaths: [...new Set(bundles.map(resolveUserPath))],
    device: trustedValue<Device>('device', 'auto'),
    cacheSize: trustedValue<number>('cacheSize', 2000),
  };
}

/** `~` and workspace-relative paths, as users write them in settings. */
function resolveUserPath(p: string): string {
  if (p.startsWith('~/')) return path.join(process.env.HOME ?? '', p.slice(2));
  if (path.isAbsolute(p)) return p;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, p) : p;
}

export function isEnabledFor(document: vscode.TextDocument): boolean {
  return vscode.workspace.getConfiguration(section, document).get<boolean>('enabled', true);
}

export function notebookAnnotationsEnabled(): boolean {
  return vscode.workspace.getConfiguration(section).get<boolean>('notebookAnnotations', true);
}
