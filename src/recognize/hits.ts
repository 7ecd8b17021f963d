// The scanners' common currency: a found entity as offsets into the scanned text, plus what
// every scanner needs to judge a candidate.
import type { EntityKind } from './types';
import type { LineIndex } from './lineIndex';
import type { LineContext } from './context';
import type { SmilesJudge } from './rdkitJudge';

export interface Hit {
  readonly kind: EntityKind;
  /** [start, end) offsets of the entity's extent in the text. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface ScanEnv {
  readonly text: string;
  readonly lines: LineIndex;
  readonly context: LineContext;
  readonly judge: SmilesJudge;
}
