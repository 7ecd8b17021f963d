// "Wrap in domain tag": one WorkspaceEdit (one undo step) that puts the entity's domain tag before it,
// offered as a command (from hover links and the palette) and as a code action.
import * as vscode from 'vscode';
import { wrap } from '../recognize/wrap';
import { type EntityService, rangeOf } from './entityService';
import type { EntityLocation } from './hoverProvider';
import type { ScannedEntity } from './protocol';
import { isEnabledFor } from './settings';

/** True when the entity already follows its domain tag, so wrapping again would double it. */
function alreadyWrapped(document: vscode.TextDocument, entity: ScannedEntity): boolean {
  const { start } = entity.range;
  const before = document.lineAt(start.line).text.slice(0, start.character).trimEnd();
  return before.endsWith(wrap(entity).tag);
}

function editFor(uri: vscode.Uri, entity: ScannedEntity): vscode.WorkspaceEdit {
  const { edit } = wrap(entity);
  const workspaceEdit = new vscode.WorkspaceEdit();
  const { start, end } = edit.range;
  workspaceEdit.replace(uri, new vscode.Range(start.line, start.character, end.line, end.character), edit.newText);
  return workspaceEdit;
}

async function documentOf(uri: string): Promise<vscode.TextDocument> {
  const existing = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
  return existing ?? vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
}

/** The command: with a location from a hover link, or at the active editor's cursor. */
export async function wrapInDomainTagCommand(entities: EntityService, at?: EntityLocation): Promise<boolean> {
  let document: vscode.TextDocument;
  let position: vscode.Position;
  if (at) {
    document = await documentOf(at.uri);
    position = new vscode.Position(at.line, at.character);
  } else {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return false;
    document = editor.document;
    position = editor.selection.active;
  }
  const entity = await entities.entityAt(document, position);
  if (!entity) {
    void vscode.window.showInformationMessage('Tag-LLM: no molecule or protein sequence here to wrap.');
    return false;
  }
  if (alreadyWrapped(document, entity)) {
    void vscode.window.showInformationMessage(`Tag-LLM: this entity already follows ${wrap(entity).tag}.`);
    return false;
  }
  return vscode.workspace.applyEdit(editFor(document.uri, entity));
}

export class WrapCodeActionProvider implements vscode.CodeActionProvider {
  constructor(private readonly entities: EntityService) {}

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range): Promise<vscode.CodeAction[]> {
    if (!isEnabledFor(document)) return [];
    const found = await this.entities.entities(document);
    return found
      .filter((e) => rangeOf(e).intersection(range) !== undefined && !alreadyWrapped(document, e))
      .map((entity) => {
        const action = new vscode.CodeAction(`Wrap in domain tag ${wrap(entity).tag}`, vscode.CodeActionKind.RefactorRewrite);
        action.edit = editFor(document.uri, entity);
        return action;
      });
  }
}
