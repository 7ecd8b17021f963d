// The recognizer's public face: what the CLI, the runtime server and the extension call.
export type { Entity, EntityKind, FileScan, NotebookEntity, Position, Range, TextFormat } from './types';
export { loadSmilesJudge, type SmilesJudge } from './rdkitJudge';
export { scanText, scanTextAsync } from './textScanner';
export { scanNotebook, type NotebookScan } from './notebook';
export { scanDocument, scanFile, formatOf, MAX_FILE_BYTES } from './scan';
export { RecognizedDocument, type TextChange } from './document';
export { wrap, DOMAIN_TAG, type TextEdit, type Wrapped } from './wrap';
