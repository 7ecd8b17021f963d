// Wrapping an entity in its domain tag, in the form the runtime's templates use
// (`<SMILES> {text}`, `<Protein> {text}`): the tagged text, and the editor edit that makes it,
// an insertion of the tag before the entity, so a wrapped FASTA record keeps its line breaks.
import type { Entity, EntityKind, Range } from './types';

export const DOMAIN_TAG: Record<EntityKind, string> = { smiles: '<SMILES>', protein: '<Protein>' };

export interface TextEdit {
  readonly range: Range;
  readonly newText: string;
}

export interface Wrapped {
  readonly tag: string;
  /** The entity's text after its tag, e.g. `<SMILES> CCO`. */
  readonly taggedText: string;
  /** Inserts `<TAG> ` at the entity's start; applying it to the document yields the tagged form. */
  readonly edit: TextEdit;
}

export function wrap(entity: Entity): Wrapped {
  const tag = DOMAIN_TAG[entity.kind];
  const prefix = `${tag} `;
  return {
    tag,
    taggedText: prefix + entity.text,
    edit: { range: { start: entity.range.start, end: entity.range.start }, newText: prefix },
  };
}
