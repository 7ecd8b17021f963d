// Hover cards on recognized molecules and sequences: the structure and descriptors at once, the
// Tag-LLM predictions when ready (they are awaited briefly, then served from the cache on the next hover).
import * as vscode from 'vscode';
import { type EntityService, rangeOf } from './entityService';
import { hoverMarkdown } from './hoverCard';
import { isEnabledFor } from './settings';
import type { ScannedEntity } from './protocol';

/** How long a hover waits for predictions before showing the card without them. */
const predictionWaitMs = 1500;

export const commandIds = { openPanel: 'tagllm.openPanel', wrapInDomainTag: 'tagllm.wrapInDomainTag' } as const;

export interface EntityLocation {
  uri: string;
  line: number;
  character: number;
}

export function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

export class EntityHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly entities: EntityService,
    /** Per-hover timings go to the log at trace level (the bench reads them). */
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!isEnabledFor(document)) return undefined;
    const started = performance.now();
    const entity = await this.entities.entityAt(document, position);
    if (!entity) return undefined;
    const hover = await this.hoverFor(document, entity);
    this.log.trace(`hover ${entity.kind} ${(performance.now() - started).toFixed(2)} ms`);
    return hover;
  }

  private async hoverFor(document: vscode.TextDocument, entity: ScannedEntity): Promise<vscode.Hover> {
    const card = await this.entities.card(entity);
    const predictions = await this.entities.settledPredictions(entity, predictionWaitMs).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    const at: EntityLocation = { uri: document.uri.toString(), line: entity.range.start.line, character: entity.range.start.character };
    const markdown = new vscode.MarkdownString(
      hoverMarkdown(entity, card, predictions, {
        openInPanel: commandUri(commandIds.openPanel, [at]),
        wrapInDomainTag: commandUri(commandIds.wrapInDomainTag, [at]),
      }),
    );
    markdown.supportHtml = true;
    markdown.isTrusted = { enabledCommands: [commandIds.openPanel, commandIds.wrapInDomainTag] };
    return new vscode.Hover(markdown, rangeOf(entity));
  }
}
