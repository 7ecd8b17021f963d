// Check GPU: the runtime process probes every execution provider (tagllm doctor's report) and the
// report opens as a plain-text document beside the editor, with what to install when no GPU runs.
import * as vscode from 'vscode';
import { CheckGpu } from './protocol';
import type { RuntimeClient } from './runtimeClient';

export async function checkGpuCommand(client: RuntimeClient): Promise<void> {
  const { report, text } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Tag-LLM: checking the GPU…' },
    () => client.request(CheckGpu, null),
  );
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  const gpu = report.probes.find((p) => p.ok && p.provider !== 'cpu' && report.advice.length === 0);
  if (gpu) void vscode.window.showInformationMessage(`Tag-LLM: ${gpu.provider} runs here (${gpu.matmulMs} ms for a 512×512 MatMul).`);
  else void vscode.window.showWarningMessage(`Tag-LLM: no GPU provider runs here. ${report.advice[0] ?? ''}`);
}
