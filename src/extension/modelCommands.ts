// Select Model and Select Device: write the user's choice into settings; the runtime follows the settings.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { findModelsOnDisk, modelPickText } from './modelDiscovery';
import { section } from './settings';

/** Model and device are machine choices: they go to user settings, never into a workspace someone else wrote. */
async function update(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(section).update(key, value, vscode.ConfigurationTarget.Global);
}

/** What the OS can give the runtime process without swapping, now (Linux: MemAvailable). */
function machineMemory() {
  return { availableBytes: os.freemem(), totalBytes: os.totalmem() };
}

export async function selectModelCommand(): Promise<void> {
  const found = findModelsOnDisk(os.homedir());
  const machine = machineMemory();
  type Item = vscode.QuickPickItem & { path?: string; browse?: 'gguf' | 'folder'; refusal?: string };
  const items: Item[] = [
    { label: '$(file) GGUF file…', browse: 'gguf' },
    { label: '$(folder) Hugging Face folder…', description: 'config.json, *.safetensors, tokenizer.json', browse: 'folder' },
  ];
  if (found.length > 0) items.push({ label: 'Found on this machine', kind: vscode.QuickPickItemKind.Separator });
  items.push(...found.map((m) => ({ label: m.label, ...modelPickText(m.path, machine), path: m.path })));
  const picked = await vscode.window.showQuickPick(items, { title: 'Tag-LLM: Select Model', placeHolder: 'The frozen language model the tags were trained on' });
  if (!picked) return;
  let chosen = picked.path;
  let refusal = picked.refusal;
  if (picked.browse) {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: picked.browse === 'gguf',
      canSelectFolders: picked.browse === 'folder',
      filters: picked.browse === 'gguf' ? { GGUF: ['gguf'] } : undefined,
    });
    chosen = uris?.[0]?.fsPath;
    // A GGUF file is checked from its header before it becomes the model; a Hugging Face folder has no header to check.
    if (chosen && picked.browse === 'gguf') refusal = modelPickText(chosen, machineMemory()).refusal;
  }
  if (refusal) {
    void vscode.window.showErrorMessage(`Tag-LLM: ${refusal}`);
    return;
  }
  if (chosen) await update('model', chosen);
}

export async function selectDeviceCommand(): Promise<void> {
  const current = vscode.workspace.getConfiguration(section).get<string>('device', 'auto');
  const items = [
    { label: 'auto', description: 'CUDA when installed, else WebGPU when a GPU is visible, else the CPU' },
    { label: 'cuda', description: 'NVIDIA GPU through onnxruntime’s CUDA provider (needs CUDA 12 and cuDNN 9)' },
    { label: 'webgpu', description: 'any GPU through WebGPU (Vulkan on Linux, D3D12 on Windows, Metal on macOS)' },
    { label: 'cpu', description: 'always the CPU' },
  ].map((i) => ({ ...i, picked: i.label === current }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Tag-LLM: Select Device' });
  if (picked) await update('device', picked.label);
}
