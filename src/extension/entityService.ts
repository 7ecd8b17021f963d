// The extension host's view of entities: scans documents through the runtime, and remembers each
// document's entities per version and each entity's card and predictions, so repeated hovers answer at once.
import * as vscode from 'vscode';
import { Describe, type EntityCard, type EntityRef, Predict, type Predictions, Scan, type ScannedEntity } from './protocol';
import { LruCache } from './lruCache';
import { type RuntimeClient, RuntimeExitedError } from './runtimeClient';

const keyOf = (ref: EntityRef) => `${ref.kind}\u0000${ref.text}`;

export class EntityService {
  private readonly scans = new Map<string, { version: number; entities: Promise<ScannedEntity[]> }>();
  private readonly cards: LruCache<string, Promise<EntityCard>>;
  private readonly predictions: LruCache<string, Promise<Predictions>>;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when cached predictions were dropped (a new model or bundle): views should ask again. */
  readonly onDidChangePredictions = this.changed.event;

  constructor(private readonly client: RuntimeClient, cacheSize: number) {
    this.cards = new LruCache(cacheSize);
    this.predictions = new LruCache(cacheSize);
  }

  resizeCaches(cacheSize: number): void {
    this.cards.resize(cacheSize);
    this.predictions.resize(cacheSize);
  }

  entities(document: vscode.TextDocument): Promise<ScannedEntity[]> {
    const key = document.uri.toString();
    const cached = this.scans.get(key);
    if (cached && cached.version === document.version) return cached.entities;
    const entities = this.client.request(Scan, { text: document.getText(), fileName: document.fileName, languageId: document.languageId });
    this.scans.set(key, { version: document.version, entities });
    // A refusal (a file over the recognizer's size cap) holds for this version; a runtime crash does not.
    entities.catch((error: unknown) => {
      if (error instanceof RuntimeExitedError) this.scans.delete(key);
    });
    return entities;
  }

  async entityAt(document: vscode.TextDocument, position: vscode.Position): Promise<ScannedEntity | undefined> {
    const entities = await this.entities(document);
    return entities.find((e) => rangeOf(e).contains(position));
  }

  card(ref: EntityRef): Promise<EntityCard> {
    return this.memo(this.cards, ref, () => this.client.request(Describe, { kind: ref.kind, text: ref.text }));
  }

  predict(ref: EntityRef): Promise<Predictions> {
    return this.memo(this.predictions, ref, () => this.client.request(Predict, { kind: ref.kind, text: ref.text }));
  }

  /** The predictions, or 'pending' when they take longer than waitMs (they stay cached for the next ask). */
  async settledPredictions(ref: EntityRef, waitMs: number): Promise<Predictions | 'pending'> {
    const pending = this.predict(ref);
    const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), waitMs));
    return Promise.race([pending, timeout]);
  }

  forget(document: vscode.TextDocument): void {
    this.scans.delete(document.uri.toString());
  }

  invalidatePredictions(): void {
    this.predictions.clear();
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }

  private memo<T>(map: LruCache<string, Promise<T>>, ref: EntityRef, make: () => Promise<T>): Promise<T> {
    const key = keyOf(ref);
    let value = map.get(key);
    if (!value) {
      value = make();
      map.set(key, value);
      // A failure (a dead runtime, a cancelled request) must not be cached.
      value.catch(() => map.delete(key));
    }
    return value;
  }
}

export function rangeOf(entity: ScannedEntity): vscode.Range {
  const { start, end } = entity.range;
  return new vscode.Range(start.line, start.character, end.line, end.character);
}
